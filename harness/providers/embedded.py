"""The default provider: PostgreSQL 16 from the ``pgserver`` wheel. No Docker, no system
server, nothing but pip. We use the wheel's binaries and run them ourselves (rather than
``pgserver.get_server``) to listen on a TCP port, choose settings and crash the server on
purpose in fault tests."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
from pathlib import Path

from harness.errors import ProviderUnavailable
from harness.providers._binaries import BinariesProvider
from harness.providers.local import is_root, reachable_by, service_user

#: Where, as root, a copy of the wheel's binaries goes when the service user cannot reach the
#: wheel (a Python under /root). Readable by everyone, keyed by the wheel's version.
ROOT_COPY_DIR = Path("/var/lib/coachdb")


def wheel_install_dir() -> Path:
    """Located without importing pgserver, whose import has side effects (lock files)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise ProviderUnavailable("the pgserver wheel is not installed (pip install pgserver)")
    install = Path(next(iter(spec.submodule_search_locations))).resolve() / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise ProviderUnavailable(f"the pgserver wheel has no server binaries in {install}")
    return install


def usable_install_dir() -> Path:
    """The wheel's ``pginstall`` directory, or as root a world-readable copy of it."""
    source = wheel_install_dir()
    if not is_root() or reachable_by(source / "bin", service_user()):
        return source
    version = importlib.metadata.version("pgserver")
    target = ROOT_COPY_DIR / f"pgserver-{version}"
    if not (target / "bin" / "postgres").exists():
        ROOT_COPY_DIR.mkdir(parents=True, exist_ok=True)
        ROOT_COPY_DIR.chmod(0o755)
        staging = ROOT_COPY_DIR / f".pgserver-{version}.{os.getpid()}"
        shutil.copytree(source, staging, symlinks=True)
        for dirpath, _dirnames, filenames in os.walk(staging):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                path = Path(dirpath) / name
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o444)
        try:
            staging.rename(target)
        except OSError:  # another process finished the same copy first
            shutil.rmtree(staging, ignore_errors=True)
    return target


class EmbeddedProvider(BinariesProvider):
    name = "embedded"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            wheel_install_dir()
        except ProviderUnavailable as exc:
            return str(exc)
        return None

    def bin_dir(self) -> Path:
        return usable_install_dir() / "bin"
