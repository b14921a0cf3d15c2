"""What `make run` / `make test` need from the machine, and the exact command that installs each
missing piece on this platform.

Run by the Makefile with whatever `python3` the machine has (before `.venv` exists), so this
file keeps to syntax Python 3.6 and later parse and imports nothing outside the standard library:

    python3 scripts/setupcheck.py check       Python 3.11 with its venv module, or how to get it
    python3 scripts/setupcheck.py pip-failed  after a failed `pip install`: the likely cause

scripts/testall.py and tests/ui/conftest.py import find_chromium() and browser_hint() from here,
so `make test` and a bare `pytest` find the same browser.
"""

import os
import platform
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_CHROMIUM = "/usr/bin/chromium"
PYTHON_VERSION = (3, 11)


def os_release(path="/etc/os-release"):
    """/etc/os-release as a dict (empty where the file is absent, e.g. macOS)."""
    values = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.strip().partition("=")
                if key:
                    values[key] = value.strip().strip('"')
    except OSError:
        pass
    return values


def family(release=None):
    """debian, ubuntu, fedora, arch, alpine, suse, macos or other: what the hints below know."""
    if sys.platform == "darwin":
        return "macos"
    release = os_release() if release is None else release
    names = [release.get("ID", ""), *release.get("ID_LIKE", "").split()]
    for name, known in (
        ("debian", "debian"),
        ("ubuntu", "ubuntu"),
        ("fedora", "fedora"),
        ("rhel", "fedora"),
        ("centos", "fedora"),
        ("arch", "arch"),
        ("alpine", "alpine"),
        ("suse", "suse"),
        ("opensuse", "suse"),
    ):
        # The distribution's own ID wins over what it is "like" (Ubuntu is like Debian).
        if names[0] == name:
            return known
    for name in names[1:]:
        if name in ("debian", "ubuntu"):
            return "debian"
        if name in ("fedora", "rhel", "centos"):
            return "fedora"
        if name in ("suse", "opensuse"):
            return "suse"
        if name == "arch":
            return "arch"
    return "other"


def sudo():
    return "" if os.geteuid() == 0 else "sudo "


def venv_python():
    return os.path.join(ROOT, ".venv", "bin", "python")


# --- the browser of the UI tests --------------------------------------------------------------


def playwright_chromium():
    """The Chromium that Playwright itself installed (`playwright install chromium`), if any.

    Asks the installed Playwright where its browser for this version lives, so a browser
    left over from another Playwright version is not picked up."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # its driver could not start: then it has no browser for us either
        return None
    return path if path and os.path.exists(path) else None


def find_chromium():
    """The headless browser for the UI tests: $CHROMIUM, else Debian's /usr/bin/chromium, else
    Playwright's own Chromium. None when there is none (a $CHROMIUM naming no file counts as
    none: the caller says so)."""
    named = os.environ.get("CHROMIUM")
    if named:
        return named if os.path.isfile(named) and os.access(named, os.X_OK) else None
    if os.path.exists(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    return playwright_chromium()


def browser_hint():
    """What to run to get a browser on this platform (the UI tests are never skipped)."""
    if os.environ.get("CHROMIUM"):
        named = os.environ["CHROMIUM"]
        return f"CHROMIUM={named} is not an executable file: point it at a Chromium or Chrome."
    playwright = f"{os.path.relpath(venv_python())} -m playwright install --with-deps chromium"
    commands = {
        "debian": f"{sudo()}apt-get install -y chromium",
        # Ubuntu's `chromium` package is a snap wrapper that cannot run headless as a test
        # browser everywhere; Playwright's own build works.
        "ubuntu": playwright,
        "fedora": f"{sudo()}dnf install -y chromium && export CHROMIUM=/usr/bin/chromium-browser",
        "arch": f"{sudo()}pacman -S --noconfirm chromium",
        "alpine": f"{sudo()}apk add chromium",
        "suse": f"{sudo()}zypper install -y chromium",
        "macos": playwright,
        "other": playwright,
    }
    return (
        f"No headless browser for the UI tests. Install one with:\n\n    {commands[family()]}\n\n"
        "or point CHROMIUM at a Chromium/Chrome you have: CHROMIUM=/path/to/chrome make test"
    )


# --- Python 3.11 and a C compiler --------------------------------------------------------------


def python_hint():
    commands = {
        "debian": f"{sudo()}apt-get install -y python3.11 python3.11-venv",
        "ubuntu": f"{sudo()}apt-get install -y python3.11 python3.11-venv",
        "fedora": f"{sudo()}dnf install -y python3.11",
        "suse": f"{sudo()}zypper install -y python311",
        "macos": "brew install python@3.11",
    }
    lines = []
    if family() in commands:
        lines.append("    " + commands[family()])
        lines.append("or, where the distribution has no 3.11,")
    lines.append("    uv python install 3.11      (or: pyenv install 3.11)")
    lines.append(
        "then run `make PYTHON=/path/to/python3.11 test` if it is not on PATH as python3.11."
    )
    return "\n".join(lines)


def compiler_hint():
    commands = {
        "debian": f"{sudo()}apt-get install -y build-essential",
        "ubuntu": f"{sudo()}apt-get install -y build-essential",
        "fedora": f"{sudo()}dnf install -y gcc gcc-c++ make",
        "arch": f"{sudo()}pacman -S --noconfirm base-devel",
        "alpine": f"{sudo()}apk add build-base linux-headers",
        "suse": f"{sudo()}zypper install -y gcc gcc-c++ make",
        "macos": "xcode-select --install",
    }
    return commands.get(family(), "install gcc (or clang) and make with your package manager")


def has_c_compiler():
    return any(shutil.which(name) for name in (os.environ.get("CC", "cc"), "cc", "gcc", "clang"))


def check(found=None):
    """A message when this Python (version `found`) cannot build the desk's .venv, else None."""
    found = found or tuple(sys.version_info[:2])
    if found != PYTHON_VERSION:
        return (
            f"make needs Python 3.11; {sys.executable} is Python {found[0]}.{found[1]}."
            f" Install Python 3.11:\n{python_hint()}"
        )
    try:
        import ensurepip  # noqa: F401  Debian ships it in python3.11-venv
        import venv  # noqa: F401
    except ImportError:
        return (
            f"Python 3.11 at {sys.executable} has no venv/ensurepip module. Install it:\n"
            + python_hint()
        )
    cfg = os.path.join(ROOT, ".venv", "pyvenv.cfg")
    if os.path.exists(cfg):
        with open(cfg, encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition("=")
                if key.strip() in ("version", "version_info") and not value.strip().startswith(
                    "3.11"
                ):
                    return (
                        f".venv was made by Python {value.strip()}; the desk needs 3.11."
                        " Remove it and run make again:\n    rm -rf .venv"
                    )
    return None


def pip_failed():
    """After `pip install` failed: the message pip printed above is the detail, this the cause."""
    if not has_c_compiler():
        return (
            "pip could not install the dependencies, and this machine has no C compiler: a"
            f" dependency without a prebuilt wheel for {platform.system()} {platform.machine()}"
            " is built from source. Install one:\n"
            f"    {compiler_hint()}\nthen run make again."
        )
    return (
        "pip could not install the dependencies (its message is above). Check that PyPI (or"
        " your pip index, PIP_INDEX_URL) can be reached, then run make again."
    )


def main(argv):
    command = argv[0] if argv else "check"
    if command == "check":
        problem = check()
    elif command == "pip-failed":
        problem = pip_failed()
    elif command == "browser":
        found = find_chromium()
        problem = None if found else browser_hint()
        if found:
            print(found)
    else:
        problem = __doc__
    if problem:
        sys.stderr.write("\n[setup] " + problem + "\n\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
