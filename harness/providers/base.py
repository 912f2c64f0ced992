"""The one interface every provider has: ``start()``, ``url``, ``stop()``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict


def to_url(params: dict[str, object]) -> str:
    """Connection parameters as a ``postgresql://`` URL (what people paste into tools)."""
    params = {k: str(v) for k, v in params.items()}
    auth = quote(params.pop("user", ""), safe="")
    if "password" in params:
        auth += ":" + quote(params.pop("password"), safe="")
    host = params.pop("host", "")
    port = params.pop("port", "")
    netloc = (auth + "@" if auth else "") + host + (f":{port}" if port else "")
    dbname = quote(params.pop("dbname", ""), safe="")
    query = ("?" + urlencode(params)) if params else ""
    return f"postgresql://{netloc}/{dbname}{query}"


class Provider(ABC):
    """Where a PostgreSQL server comes from. ``url`` reaches it as a superuser (or, for an
    existing server, as whoever the URL names) in its maintenance database."""

    #: Short name used by ``--provider`` and ``COACHDB_PROVIDER``.
    name: str = ""

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this provider cannot run here, or None when it can."""
        return None

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @property
    @abstractmethod
    def url(self) -> str: ...

    def url_for(self, dbname: str, user: str | None = None) -> str:
        """The same server, another database (and optionally another login role)."""
        params = conninfo_to_dict(self.url)
        params["dbname"] = dbname
        if user is not None:
            params["user"] = user
            params.pop("password", None)
        return to_url(params)

    def server_version(self) -> int:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.info.server_version

    def describe(self) -> str:
        return f"{self.name} PostgreSQL {self.server_version() // 10000}"

    def __enter__(self) -> Provider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
