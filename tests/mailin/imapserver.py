"""A real Dovecot IMAP server on loopback for the mail tests and the bench.

A throwaway configuration under a temporary folder: plain-text auth over an unencrypted
loopback listener (the desk's TLS options are the standard library's and need no test of
their own), a passwd-file with the test users, one maildir per user, a free port. As root the
mail processes run as Debian's `mail` user (Dovecot refuses uid 0 for mail access); as a
normal user everything runs as that user.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DovecotServer:
    """Start with `start()`, stop with `stop()`; `users` maps user name -> password."""

    def __init__(self, users: dict[str, str], root: Path | None = None) -> None:
        self.users = dict(users)
        self.root = Path(root or tempfile.mkdtemp(prefix="sd-dovecot-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # As root the mail processes run as Debian's `mail` user (Dovecot refuses uid 0).
        account = pwd.getpwnam("mail") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
        self.uid, self.gid, self.user_name = account.pw_uid, account.pw_gid, account.pw_name
        self.config = self.root / "dovecot.conf"

    def _write_config(self) -> None:
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in self.users.items())
        )
        root_mode = os.geteuid() == 0
        login_user = "dovenull" if root_mode else self.user_name
        internal_user = "dovecot" if root_mode else self.user_name
        self.config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {"dovecot" if root_mode else grp.getgrgid(os.getgid()).gr_name}
first_valid_uid = {min(self.uid, 8) if root_mode else self.uid}
mail_location = maildir:{self.root}/mail/%u
mail_uid = {self.uid}
mail_gid = {self.gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        )
        if root_mode:
            for sub in ("mail", "home"):
                os.chown(self.root / sub, self.uid, self.gid)
            os.chmod(self.root, 0o755)  # noqa: S103 (the mail user must reach its maildir)

    def start(self, timeout: float = 20.0) -> DovecotServer:
        self._write_config()
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"dovecot exited: {self.process.stderr.read().decode()} {self.log()}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
            ):
                if sock.recv(64).startswith(b"* OK"):
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # --- a client for putting mail in and looking at flags ----------------------------------

    def client(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(user, self.users[user])
        return conn

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client(user)
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def append_many(self, user: str, raws: list[bytes], folder: str = "INBOX") -> None:
        conn = self.client(user)
        try:
            for raw in raws:
                typ, data = conn.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def count(self, user: str, criteria: str = "ALL", folder: str = "INBOX") -> int:
        conn = self.client(user)
        try:
            conn.select(folder)
            typ, data = conn.uid("SEARCH", None, criteria)
            assert typ == "OK", data
            return len(data[0].split())
        finally:
            conn.logout()
