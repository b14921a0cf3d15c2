"""Demo data for `make run` (`manage.py seed_demo`). Its own app because it spans every other
app and must never be imported by them."""
