"""Which kind of database doctor is looking at, decided once, in one place.

A *coachdb database* carries coachdb's ledger (``coachdb_meta.applied_files``, written by
``coachdb apply``), or was deployed the Supabase way (``supabase db push``) and so has
coachdb's baseline versions in ``supabase_migrations.schema_migrations``. Doctor compares
such a database with the SQL tree. Every other database is *any database*: doctor runs only
the generic checks there, because coachdb's tree, key names and signatures say nothing about
a schema another team wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from harness.migrations import baseline

TREE = "tree"
GENERIC = "generic"

#: How the report's first line names each mode.
TITLES = {TREE: "coachdb database", GENERIC: "any database"}


@dataclass(frozen=True)
class Mode:
    """The mode and why: the reason goes into the report's first line."""

    name: str  # TREE or GENERIC
    reason: str

    @property
    def title(self) -> str:
        return TITLES[self.name]


def detect(conn: psycopg.Connection) -> Mode:
    """TREE when coachdb's ledger (or its baseline in Supabase's ledger) is present, else GENERIC.
    Reads only the catalog and, where it exists, Supabase's migration ledger."""
    if conn.execute("select to_regclass('coachdb_meta.applied_files')").fetchone()[0] is not None:
        return Mode(TREE, "its ledger coachdb_meta.applied_files is present")
    if conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone()[0] is not None:
        first = baseline()[0].version
        try:
            with conn.transaction():
                found = conn.execute(
                    "select 1 from supabase_migrations.schema_migrations where version = %s", [first]
                ).fetchone()
        except psycopg.Error:
            found = None  # a ledger we may not read says nothing about whose database it is
        if found:
            return Mode(TREE, f"supabase_migrations.schema_migrations holds coachdb's baseline ({first})")
    return Mode(GENERIC, "no coachdb ledger: generic checks only")


def forced(name: str) -> Mode:
    """The mode a user chose with ``--mode``."""
    return Mode(name, "chosen with --mode")
