"""No API serializers yet (see api/urls.py)."""
