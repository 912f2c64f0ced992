"""A PostgreSQL cluster run from binaries on this machine: initdb, pg_ctl, a data directory.

Both the embedded provider (the binaries of the ``pgserver`` wheel) and the system provider
(Debian's ``postgresql-15``) are this class with a different ``bin_dir``. PostgreSQL refuses
to run as root, so as root every server command runs as the unprivileged ``coachdb`` user,
which must be able to reach the binaries and own the data directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

from harness.errors import ProviderError

SERVICE_USER = "coachdb"

#: Settings for throwaway test clusters: durability off where a crash of the *server process*
#: still loses nothing (the kernel keeps the written WAL). synchronous_commit stays on, so an
#: acknowledged commit survives ``pg_ctl stop -m immediate``.
TEST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
}

#: Settings for a cluster a person keeps (``coachdb up``): PostgreSQL's defaults.
DURABLE_SETTINGS: dict[str, str] = {"max_connections": "200"}


def is_root() -> bool:
    return os.geteuid() == 0


def service_user() -> pwd.struct_passwd:
    """The unprivileged user servers run as when we are root, created on first use."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def reachable_by(path: Path, user: pwd.struct_passwd) -> bool:
    """True when ``user`` may traverse every directory from ``/`` down to ``path``."""
    for parent in [path, *path.parents]:
        st = parent.stat()
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid == user.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCluster:
    """One data directory served by the binaries in ``bin_dir``, on 127.0.0.1 only."""

    def __init__(
        self,
        bin_dir: Path,
        data_dir: Path,
        *,
        port: int | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.bin_dir = bin_dir
        self.data_dir = data_dir
        self.port = port
        self.settings = dict(TEST_SETTINGS if settings is None else settings)
        self.log_file = data_dir / "server.log"

    # -- commands ---------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if is_root():
            user = service_user()
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        try:
            return subprocess.run(
                [str(self.bin_dir / args[0]), *args[1:]],
                check=True,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                cwd="/",
                # Own session: a terminal's Ctrl-C reaches coachdb, which decides when to stop,
                # rather than killing initdb or pg_ctl halfway (and orphaning a server).
                start_new_session=True,
                **kwargs,
            )
        except subprocess.CalledProcessError as exc:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise ProviderError(
                f"{args[0]} failed ({exc.returncode}): {exc.stderr.strip() or exc.stdout.strip()}"
                + (f"\n--- {self.log_file} ---\n{log}" if log else "")
            ) from exc

    def _give_to_service_user(self, path: Path) -> None:
        if is_root():
            user = service_user()
            os.chown(path, user.pw_uid, user.pw_gid)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the data directory with initdb: superuser ``postgres``, trust on loopback."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._give_to_service_user(self.data_dir)
        if is_root() and not reachable_by(self.data_dir.parent, service_user()):
            raise ProviderError(
                f"{self.data_dir.parent} is not reachable by the {SERVICE_USER} user that "
                "PostgreSQL runs as under root; choose a data directory outside it"
            )
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\ninclude_if_exists = 'coachdb.conf'\n")

    def _write_settings(self) -> None:
        lines = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.data_dir}'",
            *(f"{key} = '{value}'" for key, value in self.settings.items()),
        ]
        path = self.data_dir / "coachdb.conf"
        path.write_text("\n".join(lines) + "\n")
        self._give_to_service_user(path)

    def start(self) -> None:
        """initdb when needed, then start and wait until the server accepts connections."""
        if not self.initialised:
            self.init()
        if self.running:
            self.port = self.port or self._port_from_pidfile()
            return
        if self.port is None:
            self.port = free_port()
        self._write_settings()
        if not self.log_file.exists():
            self.log_file.touch()
            self._give_to_service_user(self.log_file)
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` is a crash (recovery runs at next start)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.postmaster_pid() is not None

    def postmaster_pid(self) -> int | None:
        """The pid of the postmaster serving this data directory, or None. A stale
        postmaster.pid (left by a crash, its pid since reused by another program) is not a
        running server: where /proc exists, the process must be a postgres."""
        pid = self._pid()
        if pid is None:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by another user (the service user when we are not root)
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return pid
        return pid if name.startswith("postgres") else None

    def _pidfile_lines(self) -> list[str]:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return []

    def _pid(self) -> int | None:
        lines = self._pidfile_lines()
        return int(lines[0]) if lines and lines[0].strip().isdigit() else None

    def postmaster_started_at(self) -> int | None:
        """When the running postmaster started (epoch seconds, from postmaster.pid), or None."""
        lines = self._pidfile_lines()
        return int(lines[2]) if len(lines) > 2 and lines[2].strip().isdigit() else None

    def _port_from_pidfile(self) -> int | None:
        lines = self._pidfile_lines()
        return int(lines[3]) if len(lines) > 3 else None

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the server answers (after a crash, recovery has to finish)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if result.returncode == 0:
                return
            time.sleep(0.05)
        raise ProviderError(f"server on port {self.port} did not become ready in {timeout}s")

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def remove(self) -> None:
        """Stop (immediately: nothing here is worth keeping) and delete the data directory."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)
