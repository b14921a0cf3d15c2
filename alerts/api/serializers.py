"""The receivers answer with plain JSON (api/views.py): no DRF serializers are needed."""
