"""`make test`: make sure the browser the UI tests drive is installed, then run the whole suite
on the PostgreSQL and Redis that scripts/devservices.py provides."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> None:
    """Debian's chromium and chromium-driver: the UI tests never download a browser."""
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            f"{CHROMIUM} is missing: install Debian's chromium and chromium-driver packages."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True, env=env
    )


def main(argv: list[str]) -> int:
    ensure_chromium()
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.test"
    subprocess.run([sys.executable, "manage.py", "compilemessages_if_needed"], cwd=ROOT, check=True)
    return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
