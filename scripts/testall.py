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
# binary the tests need -> the Debian packages that provide it
DEBIAN_PACKAGES = {
    CHROMIUM: ["chromium", "chromium-driver"],
    DOCKER_COMPOSE: ["docker-compose"],
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


# Python code bandit checks: the project's packages, its scripts and benchmarks.
BANDIT_TARGETS = [
    "accounts", "catalog", "tickets", "routing", "sla", "notifications", "knowledge", "demo",
    "portal", "workspace", "servicedesk", "scripts", "bench",
]  # fmt: skip


def run_bandit() -> None:
    """bandit over the project: any high-severity finding fails `make test` before pytest
    runs. Medium findings are fixed or justified inline (`# nosec Bxxx` with the reason on
    the line above); tests/security/test_bandit.py holds the line on those."""
    targets = [t for t in BANDIT_TARGETS if (ROOT / t).exists()]
    bandit = [sys.executable, "-m", "bandit", "-q", "-r", *targets, "-x", "*/migrations/*"]
    result = subprocess.run([*bandit, "-lll"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout, result.stderr, sep="\n")
        raise SystemExit("bandit found high-severity issues (see above).")
    print("bandit: no high-severity issue.")


def main(argv: list[str]) -> int:
    ensure_debian_packages()
    run_bandit()
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.test"
    subprocess.run([sys.executable, "manage.py", "compilemessages_if_needed"], cwd=ROOT, check=True)
    return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
