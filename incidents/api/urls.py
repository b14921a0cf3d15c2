"""The incidents app has no API yet: its pages call the services directly."""

urlpatterns: list = []
