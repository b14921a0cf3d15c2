"""The incidents app has no API endpoints yet (see api/urls.py)."""
