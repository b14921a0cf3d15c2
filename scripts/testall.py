"""`make test`: make sure the programs the tests drive are there (the headless browser of the UI
tests, and whatever DEBIAN_PACKAGES lists), then run the whole suite on the PostgreSQL and Redis
that scripts/devservices.py provides.

A missing program is installed with apt-get when we are root on Debian; anywhere else the run
stops with the exact command to install it. Nothing is ever skipped for want of a program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# Its sibling module, also when this file is imported as `scripts.testall` (the bandit test).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from setupcheck import DEBIAN_CHROMIUM, browser_hint, family, find_chromium, os_release, sudo

ROOT = Path(__file__).resolve().parents[1]
# binary the tests need -> the Debian packages that provide it (one row each)
DEBIAN_PACKAGES = {
    DEBIAN_CHROMIUM: ["chromium"],
    "/usr/sbin/dovecot": ["dovecot-imapd"],
    "/usr/bin/prometheus-alertmanager": ["prometheus-alertmanager"],
}
# A binary that may also be found somewhere other than its Debian path.
FOUND_ELSEWHERE: dict[str, Callable[[], str | None]] = {
    DEBIAN_CHROMIUM: find_chromium,
}


def present(path: str) -> bool:
    finder = FOUND_ELSEWHERE.get(path)
    if finder is not None:
        return finder() is not None
    return Path(path).exists()


def missing_programs() -> dict[str, list[str]]:
    return {path: pkgs for path, pkgs in DEBIAN_PACKAGES.items() if not present(path)}


def install_message(missing: dict[str, list[str]]) -> str:
    """The exact command(s) that install what is missing, for this platform."""
    lines = ["make test needs programs this machine does not have:"]
    lines += [f"    {path}  (Debian: {' '.join(pkgs)})" for path, pkgs in missing.items()]
    others = {path: pkgs for path, pkgs in missing.items() if path != DEBIAN_CHROMIUM}
    if DEBIAN_CHROMIUM in missing:
        lines += ["", browser_hint()]
    if others:
        packages = " ".join(pkg for pkgs in others.values() for pkg in pkgs)
        if family() in ("debian", "ubuntu"):
            lines += ["", "Install the others with:", f"    {sudo()}apt-get install -y {packages}"]
        else:
            lines += [
                "",
                "Install the packages of your distribution that provide the others"
                f" (Debian's names: {packages}).",
            ]
    return "\n".join(lines)


def ensure_programs() -> None:
    missing = missing_programs()
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get") and os_release().get("ID") == "debian":
        packages = [pkg for pkgs in missing.values() for pkg in pkgs]
        print(f"[test] installing Debian packages: {' '.join(packages)}", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        update = subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        install = subprocess.run(
            ["apt-get", "install", "-y", "-qq", *packages],
            env=env,
            check=False,
        )
        if update.returncode or install.returncode:
            raise SystemExit(
                f"\n[test] apt-get could not install {' '.join(packages)} (its message is above)."
                "\n" + install_message(missing) + "\n"
            )
        missing = missing_programs()
        if not missing:
            return
    raise SystemExit("\n[test] " + install_message(missing) + "\n")


# Python code bandit checks: the project's packages, its scripts and benchmarks.
BANDIT_TARGETS = [
    "accounts", "catalog", "tickets", "routing", "sla", "notifications", "knowledge", "demo",
    "portal", "workspace", "servicedesk", "scripts", "bench", "mailin", "alerts", "incidents",
    "feedback", "servicecatalog", "reports",
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
    ensure_programs()
    # The UI tests' conftest finds the same browser; naming it saves their search.
    os.environ["CHROMIUM"] = find_chromium()
    print(f"[test] browser for the UI tests: {os.environ['CHROMIUM']}", flush=True)
    run_bandit()
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.test"
    compiled = subprocess.run([sys.executable, "manage.py", "compilemessages_if_needed"], cwd=ROOT)
    if compiled.returncode:
        raise SystemExit("\n[test] compiling the translations failed (its message is above).\n")
    return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
