"""The ticket core's REST API: input serializer → service → output serializer, one action each."""
