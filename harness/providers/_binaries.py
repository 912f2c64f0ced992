"""Shared by the providers that run a LocalCluster: a temporary or kept data directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from harness.providers.base import Provider
from harness.providers.local import DURABLE_SETTINGS, LocalCluster, is_root, service_user

#: Where throwaway clusters live: COACHDB_TMPDIR, else /dev/shm (memory: a template clone
#: is a file copy, and on a shared disk its cost swings 20-100 ms with the neighbours' I/O),
#: else the system's temporary directory.
TMP_ENV = "COACHDB_TMPDIR"


def temporary_base() -> str | None:
    configured = os.environ.get(TMP_ENV)
    if configured:
        return configured
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return str(shm)
    return None


def temporary_parent() -> Path:
    """A fresh directory the service user can own a data directory in."""
    parent = Path(tempfile.mkdtemp(prefix="coachdb-", dir=temporary_base()))
    if is_root():
        user = service_user()
        os.chown(parent, user.pw_uid, user.pw_gid)
    return parent


class BinariesProvider(Provider):
    """A server run from a directory of PostgreSQL binaries. Without ``data_dir`` the cluster
    is a throwaway in a temporary directory, removed by ``stop()``."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None) -> None:
        self._temporary = data_dir is None
        if data_dir is None:
            self._parent: Path | None = temporary_parent()
            data_dir = self._parent / "data"
        else:
            self._parent = None
        self.cluster = LocalCluster(
            self.bin_dir(),
            data_dir,
            port=port,
            settings=None if self._temporary else DURABLE_SETTINGS,
        )

    def bin_dir(self) -> Path:
        raise NotImplementedError

    def start(self) -> None:
        self.cluster.start()

    def stop(self) -> None:
        if self._temporary:
            self.cluster.remove()
            if self._parent is not None:
                shutil.rmtree(self._parent, ignore_errors=True)
        else:
            self.cluster.stop()

    @property
    def url(self) -> str:
        return self.cluster.url()
