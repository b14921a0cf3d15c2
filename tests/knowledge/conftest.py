"""The browser fixtures of tests/ui (one headless Debian Chromium, signed-in pages)."""

from tests.ui.conftest import browser, open_as

__all__ = ["browser", "open_as"]
