"""The browser fixtures of tests/ui, for the CSP test that drives Chromium."""

from tests.ui.conftest import browser, open_as  # noqa: F401
