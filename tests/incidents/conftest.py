"""The browser fixtures of tests/ui (one headless Debian Chromium per session)."""

from tests.ui.conftest import browser, open_as  # noqa: F401
