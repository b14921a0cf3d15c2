"""Webhook requests reach only http(s) peers on allowed addresses (issue 17, item 8).

Real servers on loopback: a webhook that answers, one that redirects elsewhere, one that never
answers. Link-local and metadata addresses are refused before any packet is sent, so the
tests never send traffic off the machine.
"""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from servicedesk.outbound import OutboundRefused, open_url, refused_reason


class Peer:
    """A loopback HTTP server that records the paths it was asked for."""

    def __init__(self, host="127.0.0.1", status=200, headers=None):
        self.hits: list[str] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                peer.hits.append(self.path)
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peers():
    started: list[Peer] = []

    def start(**kwargs) -> Peer:
        started.append(Peer(**kwargs))
        return started[-1]

    yield start
    for peer in started:
        peer.close()


def post(url: str, timeout: float = 5):
    request = urllib.request.Request(url, data=b"{}", method="POST")  # noqa: S310 - under test
    return open_url(request, timeout=timeout)


def test_a_loopback_webhook_is_reached(peers):
    peer = peers()
    with post(f"{peer.url}/hook") as response:
        assert response.status == 200
    assert peer.hits == ["/hook"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "data:text/plain,hi",
        "gopher://127.0.0.1/",
        "/relative",
    ],
)
def test_only_http_and_https(url):
    with pytest.raises(OutboundRefused, match="scheme"):
        open_url(url, timeout=5)


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.1.1",
        "fe80::1",
        "100.100.100.200",
        "168.63.129.16",
        "fd00:ec2::254",
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "224.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_link_local_and_metadata_addresses_are_refused(address):
    assert refused_reason(address) is not None
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(OutboundRefused, match="address"):
        post(f"http://{host}/latest/meta-data/")


def test_loopback_and_private_addresses_are_allowed():
    for address in ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.10", "172.16.0.5"]:
        assert refused_reason(address) is None


def test_a_denied_network_is_refused_before_any_packet(peers, settings):
    peer = peers(host="127.0.0.3")
    settings.OUTBOUND_DENY_NETWORKS = ["127.0.0.3/32"]
    with pytest.raises(OutboundRefused, match="denied network"):
        post(f"{peer.url}/hook")
    assert peer.hits == []


def test_redirects_are_not_followed(peers):
    target = peers(host="127.0.0.4")
    redirecting = peers(status=302, headers={"Location": f"{target.url}/internal-admin"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        post(f"{redirecting.url}/hook")
    assert raised.value.code == 302
    assert target.hits == []


def test_a_silent_peer_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        port = silent.getsockname()[1]
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            post(f"http://127.0.0.1:{port}/hook", timeout=0.5)


def test_a_timeout_is_required():
    with pytest.raises(ValueError, match="timeout"):
        open_url("http://127.0.0.1/", timeout=0)


def test_webhook_delivery_refuses_a_metadata_target(desk):
    from notifications.delivery import DeliveryError, _post_webhook
    from notifications.models import Notification

    notification = Notification(
        channel="webhook",
        target="http://169.254.169.254/latest/meta-data/iam/",
        subject="s",
        body="b",
        url="",
    )
    with pytest.raises(DeliveryError, match="link-local"):
        _post_webhook(notification)
