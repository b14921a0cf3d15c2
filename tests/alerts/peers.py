"""Real peers of the alerts tests, started on loopback: Debian's Alertmanager with a throwaway
config and storage, and a small HTTP relay between it and the desk that records every answer
and can fail the first delivery after storing it (a fault the sender must survive)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float = 90.0, interval: float = 0.25, what: str = ""):
    """Poll until `condition()` is truthy (a deadline for a slow machine, not a timing
    assertion); return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what or condition}")
        time.sleep(interval)


class Alertmanager:
    """`prometheus-alertmanager` on a free loopback port, its one receiver the desk."""

    def __init__(
        self,
        workdir: Path,
        *,
        url: str,
        token: str,
        group_by=("alertname", "instance"),
        group_wait="1s",
        group_interval="1s",
        repeat_interval="1h",
        max_alerts: int = 0,
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        config = {
            "route": {
                "receiver": "desk",
                "group_by": list(group_by),
                "group_wait": group_wait,
                "group_interval": group_interval,
                "repeat_interval": repeat_interval,
            },
            "receivers": [
                {
                    "name": "desk",
                    "webhook_configs": [
                        {
                            "url": url,
                            "send_resolved": True,
                            "max_alerts": max_alerts,
                            "http_config": {
                                "authorization": {"type": "Bearer", "credentials": token}
                            },
                        }
                    ],
                }
            ],
        }
        # JSON is YAML: no YAML library needed to write the config.
        (workdir / "alertmanager.yml").write_text(json.dumps(config), encoding="utf-8")
        (workdir / "data").mkdir(exist_ok=True)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Alertmanager:
        self.log = open(self.workdir / "alertmanager.log", "wb")
        self.process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={self.workdir / 'alertmanager.yml'}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._ready, timeout=60, what="alertmanager ready")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError((self.workdir / "alertmanager.log").read_text())
        try:
            with urllib.request.urlopen(f"{self.base}/-/ready", timeout=2) as answer:  # noqa: S310 (loopback http URLs the test builds)
                return answer.status == 200
        except OSError:
            return False

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def push(self, alerts: list[dict]) -> None:
        """POST alerts to Alertmanager's own API, as Prometheus does."""
        request = urllib.request.Request(  # noqa: S310 (loopback http URLs the test builds)
            f"{self.base}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback http URLs the test builds)
            assert answer.status == 200, answer.read()

    def log_text(self) -> str:
        return (self.workdir / "alertmanager.log").read_text(errors="replace")


class Relay:
    """An HTTP relay to the desk recording each delivery's answer; with `fail_first`, the first
    delivery is passed on (the desk stores it) but answered 500, so Alertmanager retries."""

    def __init__(self, target: str, *, fail_first: bool = False):
        self.target = target.rstrip("/")
        self.fail_first = fail_first
        self.statuses: list[int] = []
        self.in_flight = 0
        self.lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                with relay.lock:
                    relay.in_flight += 1
                try:
                    self._relay()
                finally:
                    with relay.lock:
                        relay.in_flight -= 1

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                request = urllib.request.Request(  # noqa: S310 (loopback http URLs the test builds)
                    relay.target + self.path, data=body, headers=headers, method="POST"
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (loopback http URLs the test builds)
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, payload = error.code, error.read()
                with relay.lock:
                    if relay.fail_first:
                        relay.fail_first = False
                        status, payload = 500, b'{"injected": true}'
                    relay.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Relay:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        # The desk finishes what it was given before the test's database goes away.
        wait_for(lambda: self.in_flight == 0, timeout=120, what="deliveries in flight")
        self.server.shutdown()
        self.server.server_close()
