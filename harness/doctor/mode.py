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

from harness.ledger import coachdb_evidence

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
    The rule itself is ``harness.ledger.coachdb_evidence``, which apply uses too."""
    reason = coachdb_evidence(conn)
    return Mode(TREE, reason) if reason else Mode(GENERIC, "no coachdb ledger: generic checks only")


def forced(name: str) -> Mode:
    """The mode a user chose with ``--mode``."""
    return Mode(name, "chosen with --mode")
