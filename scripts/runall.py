"""`make run`: migrate, load the demo data, then run the web server, a Celery worker and Celery
beat side by side until Ctrl-C, which stops all three.

The embedded PostgreSQL and Redis (or the servers named by DATABASE_URL / REDIS_URL) are
already up: scripts/devservices.py starts this script.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SERVICEDESK_DATA_DIR", ROOT / ".data"))
PY = sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def manage(*args: str) -> None:
    if subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=False).returncode:
        raise SystemExit(f"\n[run] `manage.py {' '.join(args)}` failed (its message is above).\n")


def check_port_free() -> None:
    """Say so before migrating and seeding, not after, when the web port is in use."""
    with socket.socket() as sock:
        sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as runserver: TIME_WAIT is free
        try:
            sock.bind((HOST, int(PORT)))
        except OSError as exc:
            raise SystemExit(
                f"\n[run] cannot serve on {HOST}:{PORT}: {exc.strerror}. Stop what runs there,"
                f" or choose another port:\n\n    PORT={int(PORT) + 1} make run\n"
            ) from None


def stop_on_signal(signum, frame) -> None:
    """SIGTERM (e.g. from a process manager) stops everything the way Ctrl-C does."""
    raise KeyboardInterrupt


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.local")
    check_port_free()
    manage("migrate", "--noinput")
    manage("compilemessages_if_needed")
    manage("seed_demo")
    DATA.mkdir(parents=True, exist_ok=True)
    processes = {
        "web": [PY, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"],
        "worker": [
            PY,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--queues=celery",
            "--hostname=worker@%h",
        ],
        # Deliveries (SMTP, chat webhooks) on their own worker: a hung mail server never
        # delays intake, routing or the SLA sweep.
        "delivery": [
            PY,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--queues=delivery",
            "--hostname=delivery@%h",
        ],
        "beat": [
            PY,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(DATA / "celerybeat-schedule"),
        ],
    }
    children = {name: subprocess.Popen(cmd, cwd=ROOT) for name, cmd in processes.items()}
    time.sleep(2)
    manage("demo_logins", f"--url=http://{HOST}:{PORT}/")
    print(
        "Worker and beat log to this terminal; `.venv/bin/celery -A servicedesk inspect ping`"
        " shows the worker. Press Ctrl-C to stop everything.",
        flush=True,
    )
    signal.signal(signal.SIGTERM, stop_on_signal)
    # A shell without job control starts background commands with SIGINT ignored, and Python
    # then installs no Ctrl-C handler: install it explicitly so Ctrl-C always stops everything.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
        failed = [name for name, child in children.items() if child.poll() is not None]
        print(f"stopped: {', '.join(failed)} exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
