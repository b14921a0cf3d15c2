"""Outgoing HTTP requests to addresses an administrator typed in (chat webhooks).

A webhook URL is data, not code: whoever can edit one could point the desk's workers at
`file:///etc/passwd`, at a cloud metadata service (169.254.169.254 hands out credentials) or
at an internal admin page through a redirect. Every outgoing request goes through `open_url`:

- only http and https; redirects are never followed (a webhook has no reason to redirect);
- the host name is resolved here and every address checked before connecting, and the socket
  connects to exactly the address that was checked (a DNS answer that changes between check
  and connect cannot slip another address in);
- link-local (169.254.0.0/16, fe80::/10, where the metadata services live), the known metadata
  addresses of the big clouds, unspecified, multicast and reserved addresses are refused, and
  so is anything in `OUTBOUND_DENY_NETWORKS`; loopback and private networks are allowed, where
  an on-premises chat server lives;
- a timeout always applies, to the connection and to each read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")
#: Cloud metadata services outside the link-local range (Alibaba Cloud, AWS over IPv6, Azure's
#: wire server).
METADATA_ADDRESSES = ("100.100.100.200", "fd00:ec2::254", "168.63.129.16")


class OutboundRefused(urllib.error.URLError):
    """The URL's scheme or address is not one the desk may send to (nothing was sent)."""


def refused_reason(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_link_local:
        return "link-local address"
    if str(ip) in METADATA_ADDRESSES:
        return "cloud metadata address"
    if ip.is_unspecified or ip.is_multicast or (ip.is_reserved and not ip.is_private):
        return "reserved address"
    for network in getattr(settings, "OUTBOUND_DENY_NETWORKS", ()):
        if ip in ipaddress.ip_network(network, strict=False):
            return "denied network"
    return None


def checked_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    """`socket.create_connection`, connecting only to addresses `refused_reason` accepts."""
    host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundRefused(f"cannot resolve {host}: {exc}") from exc
    last_error: OSError | None = None
    for info in infos:
        reason = refused_reason(info[4][0])
        if reason:
            raise OutboundRefused(f"{host} resolves to a {reason} ({info[4][0]})")
    for family, socktype, proto, _canonname, sockaddr in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            last_error = exc
            sock.close()
    raise last_error or OSError(f"cannot connect to {host}")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # http.client sets socket.create_connection on the instance in __init__.
        self._create_connection = checked_connection


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = checked_connection


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx is returned to the caller as an HTTPError


def _opener() -> urllib.request.OpenerDirector:
    # Only these handlers: no file:, ftp: or data: handler exists to be reached.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        urllib.request.UnknownHandler(),
        _CheckedHTTPHandler(),
        _CheckedHTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirect(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def open_url(request: urllib.request.Request | str, *, timeout: float):
    """Open `request` (http or https only) with the checks above; raises OutboundRefused,
    urllib.error.HTTPError (any non-2xx, redirects included), URLError or TimeoutError."""
    url = request.full_url if isinstance(request, urllib.request.Request) else request
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise OutboundRefused(f"scheme {scheme or '(none)'!r} is not allowed")
    if not timeout or timeout <= 0:
        raise ValueError("an outgoing request needs a timeout")
    try:
        return _opener().open(request, timeout=timeout)
    except urllib.error.URLError as exc:
        # urllib wraps what the connection raised; a refusal is reported as itself.
        if isinstance(exc.reason, OutboundRefused):
            raise exc.reason from None
        raise
