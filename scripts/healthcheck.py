"""Container health check of the web service: GET /healthz through gunicorn.

Sends a Host the production settings accept (the first of ALLOWED_HOSTS) and the proxy's
X-Forwarded-Proto, as the TLS-terminating proxy would, so neither the host check nor the HTTPS
redirect answers instead of the view. Exit 0 when healthy.
"""

import os
import sys
import urllib.request


def main() -> int:
    first = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    host = "localhost" if first in ("", "*") else first.lstrip(".")
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        # A constant http://127.0.0.1 URL: the container's own server.
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  # nosec B310
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
