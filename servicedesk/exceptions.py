"""The base class of every domain app's expected refusals.

A service raises a subclass of `DomainError` when it refuses something a person asked for in
a way that is not a field error nor a permission (an impossible transition, a concurrent
change). The shared web and API helpers turn it into a message without knowing the app that
raised it, so the foundation imports no domain app.
"""


class DomainError(Exception):
    """An expected refusal of a domain service: shown to the person, never a 500."""
