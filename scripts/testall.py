"""`make test`: make sure the browser the UI tests drive and the docker-compose the compose-file
test validates with are installed, then run the whole suite on the PostgreSQL and Redis that
scripts/devservices.py provides."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
DOCKER_COMPOSE = "/usr/bin/docker-compose"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
# binary the tests need -> the Debian packages that provide it
DEBIAN_PACKAGES = {
    CHROMIUM: ["chromium", "chromium-driver"],
    DOCKER_COMPOSE: ["docker-compose"],
    ALERTMANAGER: ["prometheus-alertmanager"],
}


def ensure_debian_packages() -> None:
    """Debian's chromium (the UI tests never download a browser) and docker-compose (the
    compose-file test runs its `config` validation; no Docker engine is needed)."""
    missing = [
        pkg for path, pkgs in DEBIAN_PACKAGES.items() if not Path(path).exists() for pkg in pkgs
    ]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"missing Debian packages: install {' '.join(missing)}.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def main(argv: list[str]) -> int:
    ensure_debian_packages()
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.test"
    subprocess.run([sys.executable, "manage.py", "compilemessages_if_needed"], cwd=ROOT, check=True)
    return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
