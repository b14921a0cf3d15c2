"""scripts/setupcheck.py and scripts/testall.py: what a fresh machine is told it lacks, and where
the UI tests' browser is found (the same function for `make test` and tests/ui/conftest.py)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import setupcheck  # noqa: E402
import testall  # noqa: E402

DEBIAN = {"ID": "debian", "VERSION_ID": "12"}
UBUNTU = {"ID": "ubuntu", "ID_LIKE": "debian"}
ROCKY = {"ID": "rocky", "ID_LIKE": "rhel centos fedora"}
MINT = {"ID": "linuxmint", "ID_LIKE": "ubuntu debian"}


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        (DEBIAN, "debian"),
        (UBUNTU, "ubuntu"),
        (ROCKY, "fedora"),
        (MINT, "debian"),
        ({"ID": "alpine"}, "alpine"),
        ({"ID": "opensuse-tumbleweed", "ID_LIKE": "opensuse suse"}, "suse"),
        ({"ID": "arch"}, "arch"),
        ({"ID": "nixos"}, "other"),
        ({}, "other"),
    ],
)
def test_the_platform_family_comes_from_os_release(release, expected):
    assert setupcheck.family(release) == expected


def test_os_release_is_parsed(tmp_path):
    path = tmp_path / "os-release"
    path.write_text('PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\n\nVERSION_ID="12"\n')
    assert setupcheck.os_release(str(path)) == {
        "PRETTY_NAME": "Debian GNU/Linux 12",
        "ID": "debian",
        "VERSION_ID": "12",
    }
    assert setupcheck.os_release(str(tmp_path / "absent")) == {}


@pytest.fixture
def on(monkeypatch):
    def platform(release: dict[str, str]) -> None:
        monkeypatch.setattr(setupcheck, "os_release", lambda: release)

    return platform


def test_the_wrong_python_is_told_how_to_get_3_11(on):
    on(DEBIAN)
    message = setupcheck.check((3, 12))
    assert message.startswith(f"make needs Python 3.11; {sys.executable} is Python 3.12.")
    assert f"{setupcheck.sudo()}apt-get install -y python3.11 python3.11-venv" in message
    assert "uv python install 3.11" in message
    assert "make PYTHON=/path/to/python3.11 test" in message
    on(ROCKY)
    assert f"{setupcheck.sudo()}dnf install -y python3.11" in setupcheck.check((3, 9))
    assert setupcheck.check((3, 11)) is None  # this .venv is 3.11, and venv/ensurepip exist


def test_the_makefile_check_runs_on_an_older_python_and_exits_non_zero():
    """`make` runs the check with the machine's python3 before .venv exists."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "setupcheck.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    # It parses as Python 3.6 grammar, so an old python3 prints the message, not a SyntaxError.
    source = (ROOT / "scripts" / "setupcheck.py").read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 6))
    with pytest.raises(SyntaxError):
        ast.parse("if (found := 1): pass", feature_version=(3, 6))


def test_a_failed_pip_install_without_a_compiler_names_the_compiler_to_install(
    tmp_path, monkeypatch, on
):
    on(DEBIAN)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    message = setupcheck.pip_failed()
    assert "this machine has no C compiler" in message
    assert f"{setupcheck.sudo()}apt-get install -y build-essential" in message
    on({"ID": "alpine"})
    assert "apk add build-base" in setupcheck.pip_failed()
    compiler = tmp_path / "cc"
    compiler.write_text("#!/bin/sh\n")
    compiler.chmod(0o755)
    assert "PyPI" in setupcheck.pip_failed()
    assert "compiler" not in setupcheck.pip_failed()


def test_the_browser_named_by_chromium_wins(tmp_path, monkeypatch):
    browser = tmp_path / "my-chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(browser))
    assert setupcheck.find_chromium() == str(browser)
    assert testall.missing_programs() == {}
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "absent"))
    assert setupcheck.find_chromium() is None
    assert setupcheck.browser_hint() == (
        f"CHROMIUM={tmp_path / 'absent'} is not an executable file: point it at a Chromium"
        " or Chrome."
    )
    assert list(testall.missing_programs()) == [setupcheck.DEBIAN_CHROMIUM]


def test_without_chromium_set_debians_browser_then_playwrights_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    debian = tmp_path / "chromium"
    debian.write_text("#!/bin/sh\n")
    monkeypatch.setattr(setupcheck, "DEBIAN_CHROMIUM", str(debian))
    assert setupcheck.find_chromium() == str(debian)
    debian.unlink()
    monkeypatch.setattr(setupcheck, "playwright_chromium", lambda: "/opt/pw/chrome")
    assert setupcheck.find_chromium() == "/opt/pw/chrome"
    monkeypatch.setattr(setupcheck, "playwright_chromium", lambda: None)
    assert setupcheck.find_chromium() is None


@pytest.mark.parametrize(
    ("release", "command"),
    [
        (DEBIAN, "apt-get install -y chromium"),
        (UBUNTU, "-m playwright install --with-deps chromium"),
        ({"ID": "arch"}, "pacman -S --noconfirm chromium"),
        (ROCKY, "dnf install -y chromium && export CHROMIUM=/usr/bin/chromium-browser"),
    ],
)
def test_a_missing_browser_is_told_the_command_for_its_platform(monkeypatch, on, release, command):
    monkeypatch.delenv("CHROMIUM", raising=False)
    on(release)
    hint = setupcheck.browser_hint()
    assert hint.startswith("No headless browser for the UI tests. Install one with:\n\n    ")
    assert command in hint
    assert "CHROMIUM=/path/to/chrome make test" in hint


def test_missing_debian_programs_are_named_with_the_exact_install_command(monkeypatch, on):
    monkeypatch.delenv("CHROMIUM", raising=False)
    missing = {
        setupcheck.DEBIAN_CHROMIUM: ["chromium"],
        "/usr/bin/sd-absent-tool": ["sd-absent-tool", "sd-absent-data"],
    }
    on(DEBIAN)
    message = testall.install_message(missing)
    assert message.splitlines()[:3] == [
        "make test needs programs this machine does not have:",
        f"    {setupcheck.DEBIAN_CHROMIUM}  (Debian: chromium)",
        "    /usr/bin/sd-absent-tool  (Debian: sd-absent-tool sd-absent-data)",
    ]
    assert f"{setupcheck.sudo()}apt-get install -y chromium" in message
    assert f"{setupcheck.sudo()}apt-get install -y sd-absent-tool sd-absent-data" in message
    on(ROCKY)
    message = testall.install_message(missing)
    assert "Debian's names: sd-absent-tool sd-absent-data" in message
    assert "dnf install -y chromium" in message


def test_every_row_of_the_debian_table_is_present_on_this_machine():
    """`make test` installed or found each; the table's keys are absolute paths."""
    assert all(os.path.isabs(path) for path in testall.DEBIAN_PACKAGES)
    assert testall.missing_programs() == {}
