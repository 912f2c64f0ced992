"""``coachdb up``: one local server per data directory, that stops when asked, every time.

What can go wrong with a long-running local server, and what this module does about it:

- Two ``up`` on one data directory would share (and then stop) one server, and a ``--reset``
  would delete a live cluster. So ``up`` holds an exclusive lock (``flock``, released by the
  kernel even when the process is killed) on ``<data dir>.coachdb-up.lock`` for its whole
  life, and writes there its pid and URL, which a refused second ``up`` quotes.
- A PostgreSQL already running on the directory but not under a live ``up`` is either the
  orphan of an ``up`` that was killed (its postmaster pid is in the lock file, or, killed
  mid-launch, the server started just after the launch moment recorded there: it is
  stopped) or someone else's server (refused, with the ``pg_ctl`` command that stops it).
- Ctrl-C (SIGINT), SIGTERM and SIGHUP are honoured at every moment. While initdb and
  ``pg_ctl start`` run (their children are in their own session, so a terminal's Ctrl-C does
  not kill them halfway), the signal is held until the step ends; everywhere else it
  interrupts at once. Either way the server is stopped before ``up`` exits: never an orphan.
- Bad options are one line with the fix: a data directory that cannot be created, is a
  file, or holds something other than a PostgreSQL cluster; a port that is taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harness.errors import HarnessError, ProviderError
from harness.providers.local import LocalCluster

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or a termination signal arrived; ``up`` stops its server and exits 130."""


@dataclass
class Interrupts:
    """The signal policy of ``up``: interrupt at once, except inside ``deferred()`` blocks,
    where the request is remembered and honoured when the block ends."""

    requested: bool = False
    _depth: int = 0
    _previous: dict[int, object] = field(default_factory=dict)

    def install(self) -> Interrupts:
        for sig in HANDLED_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        if not self._depth:
            raise Interrupted(signal.Signals(signum).name)

    @contextlib.contextmanager
    def deferred(self, *, honour: bool = True) -> Iterator[None]:
        """Run a step that must not be cut in half; raise ``Interrupted`` after it if a
        signal came meanwhile (unless ``honour`` is False: stopping is already under way)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if honour and self.requested:
            raise Interrupted("signal received during a step")


# -- options -----------------------------------------------------------------------------------


def resolve_data_dir(raw: str) -> Path:
    """The data directory as an absolute path, with its parent created; one-line errors."""
    data_dir = Path(raw).expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise HarnessError(f"--data-dir {data_dir} is a file: give a directory (new, empty, or a coachdb cluster)")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HarnessError(
            f"--data-dir {data_dir}: cannot create it ({reason}): give a directory you can write"
        ) from None
    if not os.access(data_dir.parent, os.W_OK | os.X_OK):
        raise HarnessError(f"--data-dir {data_dir}: {data_dir.parent} is not writable: give a directory you can write")
    if data_dir.is_dir() and any(data_dir.iterdir()) and not is_cluster(data_dir):
        raise HarnessError(
            f"--data-dir {data_dir} holds files that are not a PostgreSQL cluster: give a new or empty directory"
        )
    return data_dir


def is_cluster(data_dir: Path) -> bool:
    return (data_dir / "PG_VERSION").is_file()


def port_in_use(port: int) -> bool:
    """True when something already listens on 127.0.0.1:port (the server would fail to bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def reset(data_dir: Path) -> None:
    """Delete the data directory for ``--reset``, only if it is a cluster (never a home
    directory given by mistake) or empty."""
    if not data_dir.exists():
        return
    if any(data_dir.iterdir()) and not is_cluster(data_dir):
        raise HarnessError(f"--reset refuses to delete {data_dir}: it is not a PostgreSQL cluster")
    shutil.rmtree(data_dir)


# -- the lock ----------------------------------------------------------------------------------


class DataDirLock:
    """Exclusive ownership of a data directory by one ``up`` process. The lock file holds
    JSON: the owner's pid, its URL and its postmaster's pid once started."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir.with_name(data_dir.name + ".coachdb-up.lock")
        self.previous: dict = {}
        self._file: IO[str] | None = None

    def acquire(self) -> DataDirLock:
        try:
            handle = open(self.path, "a+")  # noqa: SIM115 (held open for the process's lifetime)
        except OSError as exc:
            raise HarnessError(
                f"cannot create the lock file {self.path} ({exc.strerror}): give another --data-dir"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read(handle)
            handle.close()
            who = f"pid {holder.get('pid', '?')}"
            where = f" at {holder['url']}" if holder.get("url") else " (still starting)"
            raise HarnessError(
                f"another coachdb up ({who}) serves {self.data_dir}{where}: "
                f"use that one, or stop it first (Ctrl-C in its terminal, or kill -INT {holder.get('pid', '?')})"
            ) from None
        self.previous = self._read(handle)
        self._file = handle
        self.record()
        return self

    @staticmethod
    def _read(handle: IO[str]) -> dict:
        handle.seek(0)
        try:
            value = json.loads(handle.read() or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def record(self, **facts: object) -> None:
        """Write who holds the lock (and, once known, the URL and the postmaster's pid)."""
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps({"pid": os.getpid(), **facts}))
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the flock
            self._file = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- the server ----------------------------------------------------------------------------------


def log_size(cluster: LocalCluster) -> int:
    """Where the server log ends now: a later failure reads only what this start wrote."""
    return cluster.log_file.stat().st_size if cluster.log_file.exists() else 0


def server_failure(exc: ProviderError, cluster: LocalCluster, log_offset: int = 0) -> HarnessError:
    """A failed initdb/pg_ctl as one line: the server's own FATAL line when its log has one."""
    reason = str(exc).splitlines()[0]
    if cluster.log_file.exists():
        with open(cluster.log_file, errors="replace") as log:
            log.seek(log_offset)
            fatal = [line for line in log.read().splitlines() if "FATAL:" in line]
        if fatal:
            reason = fatal[-1][fatal[-1].index("FATAL:") :]
    return HarnessError(f"the server did not start: {reason} (server log: {cluster.log_file})")


def take_over(lock: DataDirLock, cluster: LocalCluster, out: Callable[[str], None]) -> None:
    """Before starting: stop the orphan a killed ``up`` left on this directory; refuse when
    the running server is not one ``up`` started."""
    pid = cluster.postmaster_pid()
    if pid is None:
        return
    if lock.previous.get("postmaster") == pid or _started_by_previous_up(lock.previous, cluster):
        out(f"stopping the server a previous coachdb up left running (pid {pid})")
        cluster.stop()
        return
    raise HarnessError(
        f"a PostgreSQL server (pid {pid}) already runs on {cluster.data_dir}, not started by coachdb up: "
        f"stop it (pg_ctl -D {cluster.data_dir} stop) or give another --data-dir"
    )


#: How long after an ``up`` recorded that it was launching a server that server may have
#: started and still count as that ``up``'s (pg_ctl start waits at most 60 s).
LAUNCH_WINDOW_SECONDS = 90


def _started_by_previous_up(previous: dict, cluster: LocalCluster) -> bool:
    """The previous ``up`` was killed while launching (before it could record the pid): the
    running server is its own if it started within the launch window after that moment."""
    launched_at, started_at = previous.get("launched_at"), cluster.postmaster_started_at()
    if not isinstance(launched_at, int | float) or started_at is None:
        return False
    return launched_at - 1 <= started_at <= launched_at + LAUNCH_WINDOW_SECONDS


def wait_for_stop_request(cluster: LocalCluster) -> None:
    """Serve until a signal interrupts (raising ``Interrupted``) or the server dies."""
    while cluster.running:
        time.sleep(0.5)
    raise HarnessError(f"the server stopped unexpectedly (server log: {cluster.log_file})")
