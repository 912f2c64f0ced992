"""An existing server the user points at (``--url`` / ``COACHDB_DATABASE_URL``)."""

from __future__ import annotations

import os

import psycopg

from harness.errors import ProviderError, ProviderUnavailable
from harness.providers.base import Provider
from harness.urls import mask_url

URL_ENV = "COACHDB_DATABASE_URL"


class UrlProvider(Provider):
    name = "url"

    def __init__(self, url: str | None = None) -> None:
        url = url or os.environ.get(URL_ENV)
        if not url:
            raise ProviderUnavailable(f"no database URL: pass --url or set {URL_ENV}")
        self._url = url

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None if os.environ.get(URL_ENV) else f"{URL_ENV} is not set"

    def start(self) -> None:
        try:
            psycopg.connect(self._url, connect_timeout=10).close()
        except psycopg.OperationalError as exc:
            raise ProviderError(f"cannot connect to {mask_url(self._url)}: {exc}") from exc

    def stop(self) -> None:
        """Nothing to stop: the server is not ours."""

    @property
    def url(self) -> str:
        return self._url
