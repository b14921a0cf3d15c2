"""`make screenshots`: PNG screenshots of the main pages, in English and Chinese, for the README.

Migrates the dev database and loads the demo desk (`seed_demo`, idempotent), runs the web
server on a spare local port, signs in as the demo people in Debian's headless Chromium and
writes docs/screenshots/<language>/<page>.png. Never downloads a browser. Besides the pages:
the notification bell with its unread count, the inbox, and a notification e-mail (its HTML
part, as a mail client shows it) for docs/notifications.md.

`--light` seeds without the 90 days of demo history (and with fewer tickets): enough for
every page but the reports' charts, in minutes instead of much longer. `--only a,b` shoots
only the named pages (e.g. `--only bell,inbox,notification-email`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PY = sys.executable
CHROMIUM = "/usr/bin/chromium"
LANGUAGES = ("en", "zh-hans")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def ensure_cjk_font() -> None:
    """Chinese pages need a CJK font in the headless browser: Debian's fonts-noto-cjk."""
    listing = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    if listing.stdout.strip() or os.geteuid() != 0 or not shutil.which("apt-get"):
        if not listing.stdout.strip():
            print("warning: no CJK font; install fonts-noto-cjk for readable Chinese screenshots")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "fonts-noto-cjk"], check=True, env=env)


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Our own local server's http:// URL.
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  # nosec B310
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not start")


def pick_tickets() -> dict[str, str]:
    """Ticket numbers worth showing: a requester's request with a long public timeline and a
    ticket the middle-office expert works, with history."""
    import django

    django.setup()
    from django.db.models import Count, Q

    from accounts.models import User
    from tickets.models import Ticket
    from tickets.selectors import visible_tickets

    requester = User.objects.get(username="requester")
    expert = User.objects.get(username="expert")
    mine = (
        Ticket.objects.filter(requester=requester)
        .annotate(n=Count("events", filter=Q(events__is_public=True)))
        .order_by("-n", "-id")
    )
    resolved = mine.filter(status="resolved").first()
    request = resolved or mine.first()
    candidates = visible_tickets(expert).annotate(n=Count("events")).order_by("-n", "-id")
    worked = (
        candidates.filter(status="in_progress", assignee=expert).first()
        or candidates.filter(status__in=["in_progress", "pending_verification", "queued"]).first()
    )
    return {"request": request.number, "ticket": worked.number}


def notification_email_html(language: str) -> str:
    """The HTML part of the newest e-mail notification to the demo requester, rendered in
    `language` exactly as delivery renders it."""
    from notifications.delivery import email_message
    from notifications.models import Notification

    row = (
        Notification.objects.filter(recipient__username="requester", channel="email")
        .exclude(kind="")
        .order_by("-id")
        .first()
    )
    if row is None:
        return ""
    message = email_message(row, language=language)
    html = next(body for body, mimetype in message.alternatives if mimetype == "text/html")
    # A mail client shows the headers above the message; the preview shows the ones a reader
    # sees (escaped: they are the desk's own strings, but the page is HTML).
    from django.utils.html import escape

    head = "".join(
        f"<div><b>{escape(name)}:</b> {escape(value)}</div>"
        for name, value in (
            ("From", message.from_email),
            ("To", ", ".join(message.to)),
            ("Subject", message.subject),
        )
    )
    header = (
        '<div style="font:13px sans-serif;color:#444;border-bottom:1px solid #ddd;'
        f'padding:8px 12px;margin-bottom:12px;background:#f6f6f6">{head}</div>'
    )
    return header + html


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--light", action="store_true", help="seed without the demo history")
    parser.add_argument("--only", default="", help="comma-separated page names to shoot")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.local")
    sys.path.insert(0, str(ROOT))
    ensure_cjk_font()
    manage("migrate", "--noinput", "-v", "0")
    manage("compilemessages_if_needed")
    if args.light:
        manage("seed_demo", "--history-days", "0", "--tickets", "80")
    else:
        manage("seed_demo")
    numbers = pick_tickets()
    emails = {language: notification_email_html(language) for language in LANGUAGES}
    from demo.data import DEMO_PASSWORD

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DEBUG": "true"}
    server = subprocess.Popen(
        [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=env
    )
    try:
        wait_for(f"{base}/healthz")
        only = {name for name in args.only.split(",") if name}
        shoot(base, numbers, DEMO_PASSWORD, only=only, emails=emails)
    finally:
        server.terminate()
        server.wait(timeout=15)
    return 0


def shoot(
    base: str,
    numbers: dict[str, str],
    password: str,
    *,
    only: set[str] = frozenset(),
    emails: dict[str, str] | None = None,
) -> None:
    from playwright.sync_api import sync_playwright

    pages = [
        ("requester", "portal-home", "/portal/", DESKTOP),
        ("requester", "portal-new", "/portal/new/", DESKTOP),
        ("requester", "portal-request", f"/portal/requests/{numbers['request']}/", DESKTOP),
        ("requester", "portal-request-phone", f"/portal/requests/{numbers['request']}/", PHONE),
        ("expert", "workspace-queue", "/workspace/queue/all/", DESKTOP),
        ("expert", "workspace-ticket", f"/workspace/tickets/{numbers['ticket']}/", DESKTOP),
        ("manager", "dashboard", "/workspace/dashboard/", DESKTOP),
        # The bell with its unread count (the portal's header only) and the inbox.
        ("requester", "bell", "/portal/", DESKTOP),
        ("requester", "inbox", "/notifications/", DESKTOP),
    ]
    if only:
        pages = [page for page in pages if page[1] in only]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
        )
        for language in LANGUAGES:
            (OUT / language).mkdir(parents=True, exist_ok=True)
            contexts = {}
            for username, name, path, viewport in pages:
                key = (username, viewport["width"])
                if key not in contexts:
                    context = browser.new_context(
                        viewport=viewport,
                        device_scale_factor=1,
                        locale="zh-CN" if language == "zh-hans" else "en-US",
                    )
                    context.add_cookies(
                        [{"name": "django_language", "value": language, "url": base}]
                    )
                    page = context.new_page()
                    page.goto(f"{base}/accounts/login/")
                    page.fill("#id_username", username)
                    page.fill("#id_password", password)
                    page.click("main button[type=submit]")
                    page.wait_for_load_state("networkidle")
                    contexts[key] = (context, page)
                page = contexts[key][1]
                response = page.goto(f"{base}{path}")
                if response is None or response.status >= 400:
                    print(f"skipped {name}: {path} answered {response and response.status}")
                    continue
                page.wait_for_load_state("networkidle")
                target = OUT / language / f"{name}.png"
                if name == "bell":
                    # The count arrives by HTMX after the page: wait for it, then the header.
                    page.wait_for_selector("[data-testid=bell-count]")
                    page.locator("nav.navbar").first.screenshot(path=str(target))
                else:
                    page.screenshot(path=str(target), full_page=viewport is PHONE)
                print(f"wrote {target.relative_to(ROOT)}")
            html = (emails or {}).get(language)
            if html and (not only or "notification-email" in only):
                context = browser.new_context(viewport={"width": 800, "height": 700})
                page = context.new_page()
                page.set_content(html)
                target = OUT / language / "notification-email.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"wrote {target.relative_to(ROOT)}")
                context.close()
            for context, _page in contexts.values():
                context.close()
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
