"""A transaction-mode connection pooler in front of a test server, as Supabase runs one:
Debian's pgbouncer on loopback with ``pool_mode = transaction``. Server connections are
shared between clients transaction by transaction, so anything a request leaves behind in
its session would leak to the next client: coachdb keeps only ``set local`` state.

Clients behind it must not use server-side prepared statements (pgbouncer 1.18 does not
track them): connect with ``prepare_threshold=None``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from harness.errors import ProviderError, ProviderUnavailable
from harness.providers.base import to_url
from harness.providers.local import free_port, is_root, service_user

POOLER_USERS = ("postgres", "authenticator")


def find_pgbouncer() -> str:
    path = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if path is None:
        raise ProviderUnavailable("pgbouncer is not installed (apt-get install pgbouncer)")
    return path


class Pgbouncer:
    """pgbouncer in transaction mode in front of the database at ``upstream_url``."""

    def __init__(self, upstream_url: str, *, pool_size: int = 2) -> None:
        self.upstream = conninfo_to_dict(upstream_url)
        self.pool_size = pool_size
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="coachdb-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, dbname: str, user: str = "postgres") -> str:
        return to_url({"user": user, "host": "127.0.0.1", "port": self.port, "dbname": dbname})

    def start(self) -> None:
        binary = find_pgbouncer()
        (self.dir / "users.txt").write_text("".join(f'"{u}" ""\n' for u in POOLER_USERS))
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{self.upstream.get('dbname', 'postgres')} = host={self.upstream.get('host', '127.0.0.1')}"
            f" port={self.upstream.get('port', 5432)}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 200\n"
            "server_reset_query =\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\n"
        )
        kwargs: dict = {}
        if is_root():  # pgbouncer refuses to run as root
            user = service_user()
            for path in [self.dir, *self.dir.iterdir()]:
                os.chown(path, user.pw_uid, user.pw_gid)
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self.process = subprocess.Popen(
            [binary, str(self.dir / "pgbouncer.ini")],
            # pgbouncer also logs to stderr; an unread pipe would fill up and stall it
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            **kwargs,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.dir / "pgbouncer.log").read_text(errors="replace")[-2000:]
                raise ProviderError(f"pgbouncer exited:\n{log}")
            try:
                dbname = self.upstream.get("dbname", "postgres")
                psycopg.connect(self.url(dbname), connect_timeout=2, prepare_threshold=None).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.05)
        raise ProviderError("pgbouncer did not accept connections within 15s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Pgbouncer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
