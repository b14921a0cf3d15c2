"""Fixtures of the browser tests: one headless Chromium for the whole session.

Playwright drives the browser scripts/setupcheck.py finds ($CHROMIUM, Debian's /usr/bin/chromium,
or Playwright's own), the same one `make test` checks for; it never downloads a browser.
Its sync API runs an event loop in the test thread, which Django's async-safety check would
refuse for the ORM calls the tests make between browser steps.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from setupcheck import browser_hint, find_chromium

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-Secret-123"  # tests/factories.UserFactory's


@pytest.fixture(scope="session")
def browser():
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(browser_hint())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_as(browser, live_server):
    """`open_as(user)` → a page of a fresh browser context, signed in as `user`."""
    contexts = []

    def opener(user, *, locale: str = "en-US"):
        # Reduced motion: Bootstrap then opens and closes panels without animating, so a step
        # never acts on a form that is still sliding open.
        context = browser.new_context(
            locale=locale, viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
        )
        context.set_default_timeout(30_000)  # generous: CI shares two cores with the server
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        return page

    yield opener
    for context in contexts:
        context.close()
