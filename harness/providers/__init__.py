"""Providers: where a PostgreSQL server comes from. One interface (``base.Provider``),
chosen by name with ``get_provider``; which ones exist, which can run here, and which form
the server matrix every target must hold on (``MATRIX``)."""

from __future__ import annotations

from harness.errors import ProviderUnavailable
from harness.providers._binaries import BinariesProvider
from harness.providers.base import Provider
from harness.providers.container import ContainerProvider
from harness.providers.embedded import EmbeddedProvider
from harness.providers.pg17 import Postgres17Provider
from harness.providers.system import SystemProvider
from harness.providers.url import UrlProvider

PROVIDERS: dict[str, type[Provider]] = {
    cls.name: cls for cls in (EmbeddedProvider, SystemProvider, Postgres17Provider, ContainerProvider, UrlProvider)
}

DEFAULT_PROVIDER = "embedded"

#: The servers users actually run, each with its default settings: the embedded 16 (no JIT
#: in its build), 17 (Supabase's major for new projects) and Debian's 15 (JIT on, as
#: PostgreSQL ships). ``coachdb test`` and ``coachdb bench --provider all`` use those
#: available here, in this order (the system server last: the pooler pass follows it).
MATRIX: tuple[str, ...] = ("embedded", "pg17", "system")

#: Providers that run a local cluster from binaries (a data directory we own, pg_ctl).
LOCAL_PROVIDERS: tuple[str, ...] = tuple(name for name, cls in PROVIDERS.items() if issubclass(cls, BinariesProvider))


def available(names: tuple[str, ...] = MATRIX) -> list[str]:
    """Those of ``names`` that can run on this machine without configuration, in order."""
    return [name for name in names if PROVIDERS[name].unavailable_reason() is None]


def unavailable(names: tuple[str, ...] = MATRIX) -> dict[str, str]:
    """Those of ``names`` that cannot run here, each with the reason."""
    reasons = {name: PROVIDERS[name].unavailable_reason() for name in names}
    return {name: reason for name, reason in reasons.items() if reason}


def get_provider(name: str = DEFAULT_PROVIDER, **kwargs: object) -> Provider:
    """A provider instance by name; ProviderUnavailable (with the reason) when it cannot run."""
    try:
        cls = PROVIDERS[name]
    except KeyError:
        raise ProviderUnavailable(f"unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}") from None
    reason = cls.unavailable_reason()
    if reason and cls is not UrlProvider:
        raise ProviderUnavailable(f"{name} provider unavailable: {reason}")
    return cls(**kwargs)


__all__ = [
    "DEFAULT_PROVIDER",
    "LOCAL_PROVIDERS",
    "MATRIX",
    "PROVIDERS",
    "ContainerProvider",
    "EmbeddedProvider",
    "Postgres17Provider",
    "Provider",
    "SystemProvider",
    "UrlProvider",
    "available",
    "get_provider",
    "unavailable",
]
