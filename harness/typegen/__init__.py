"""Client types generated from the contract and the live catalog: ``coachdb types typescript``
writes ``types/database.types.ts`` (supabase-js), ``coachdb types python`` writes
``types/database_types.py`` (TypedDicts).

The catalog is read from a database freshly built from the SQL tree on a throwaway server,
so the types follow the tree, not whatever state a development database drifted into.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg

from harness.typegen import python, typescript
from harness.typegen.catalog import Catalog, read_catalog

RENDERERS: dict[str, Callable[[Catalog], str]] = {"typescript": typescript.render, "python": python.render}

#: Where each language's file goes, relative to the repository (or the app) root.
OUTPUTS = {"typescript": Path("types/database.types.ts"), "python": Path("types/database_types.py")}

FRESH_DATABASE = "coachdb_types"


def render_from(conn: psycopg.Connection, language: str) -> str:
    """The file for ``language`` from the database behind ``conn``."""
    return RENDERERS[language](read_catalog(conn))


def render_fresh(language: str, provider_name: str = "embedded") -> str:
    """The file for ``language`` from a fresh build of the SQL tree on a throwaway server."""
    from harness.databases import DatabaseFactory
    from harness.loader import apply
    from harness.providers import get_provider

    provider = get_provider(provider_name)
    provider.start()
    try:
        url = DatabaseFactory(provider).create_empty(FRESH_DATABASE)
        apply(url)
        with psycopg.connect(url) as conn:
            return render_from(conn, language)
    finally:
        provider.stop()


__all__ = ["OUTPUTS", "RENDERERS", "render_fresh", "render_from"]
