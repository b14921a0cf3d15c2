"""A request's language ends with the request.

Django's `LocaleMiddleware` activates the language it negotiates for a request in the thread
and never takes it back, so whatever the same thread does next — the next request's code before
its own negotiation, an on-commit job, a test after a page in Chinese — runs in that language:
text the desk writes itself (a "(no subject)" title, a log sentence rendered for a mail) would
follow the last visitor. Each request restores the language that was active when it started.

Signals, not a middleware: `request_finished` is sent when the response is closed, after a
streamed body (an attachment download) was sent in the request's own language.
"""

from __future__ import annotations

import threading

from django.core.signals import request_finished, request_started
from django.utils import translation

_started_in = threading.local()


def remember_language(**kwargs) -> None:
    # A stack: a request served inside another one (the test client in a view) nests cleanly.
    stack = getattr(_started_in, "languages", None)
    if stack is None:
        stack = _started_in.languages = []
    stack.append(translation.get_language())


def restore_language(**kwargs) -> None:
    stack = getattr(_started_in, "languages", None)
    if not stack:
        # Finished without having started here (a response closed twice): nothing to undo.
        return
    language = stack.pop()
    if language is None:
        translation.deactivate_all()
    else:
        translation.activate(language)


def connect() -> None:
    request_started.connect(remember_language, dispatch_uid="servicedesk.remember_language")
    request_finished.connect(restore_language, dispatch_uid="servicedesk.restore_language")
