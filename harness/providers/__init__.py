"""Providers: where a PostgreSQL server comes from. One interface (``base.Provider``),
chosen by name with ``get_provider``."""

from __future__ import annotations

from harness.errors import ProviderUnavailable
from harness.providers.base import Provider
from harness.providers.container import ContainerProvider
from harness.providers.embedded import EmbeddedProvider
from harness.providers.system import SystemProvider
from harness.providers.url import UrlProvider

PROVIDERS: dict[str, type[Provider]] = {
    cls.name: cls for cls in (EmbeddedProvider, SystemProvider, ContainerProvider, UrlProvider)
}

DEFAULT_PROVIDER = "embedded"


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
    "PROVIDERS",
    "ContainerProvider",
    "EmbeddedProvider",
    "Provider",
    "SystemProvider",
    "UrlProvider",
    "get_provider",
]
