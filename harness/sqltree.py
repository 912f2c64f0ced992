"""The SQL tree and its one load order.

    db/standin/   Supabase stand-in (roles, auth schema, default privileges); only where
                  the database has no `auth` schema of its own
    db/schema/    applied once; a changed file after it was applied is an error
    db/functions/ repeatable: re-applied whenever its checksum changes
    db/policies/  repeatable: re-applied whenever its checksum changes
    db/seed/      demo data, only for `coachdb up`

Within a stage, files load in name order (``010_profiles.sql`` before ``020_plans.sql``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness import SQL_ROOT
from harness.errors import LoaderError

#: Stages in load order, and whether a changed file may be applied again.
STAGES: tuple[tuple[str, bool], ...] = (
    ("standin", True),
    ("schema", False),
    ("functions", True),
    ("policies", True),
    ("seed", False),
)
REPEATABLE = {stage for stage, repeatable in STAGES if repeatable}


@dataclass(frozen=True)
class SqlFile:
    """One file of the tree, as the ledger names it (its path under the repository)."""

    name: str
    stage: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def repeatable(self) -> bool:
        return self.stage in REPEATABLE


def sql_files(root: Path = SQL_ROOT, *, stages: tuple[str, ...] | None = None) -> list[SqlFile]:
    """Every SQL file of the given stages (all by default), in load order."""
    wanted = stages or tuple(stage for stage, _ in STAGES)
    if not (root / "db" / "schema").is_dir():
        raise LoaderError(f"no SQL tree at {root / 'db'}: the installation is incomplete (reinstall coachdb)")
    files = []
    for stage, _ in STAGES:
        if stage not in wanted:
            continue
        for path in sorted((root / "db" / stage).glob("*.sql")):
            files.append(SqlFile(path.relative_to(root).as_posix(), stage, path.read_text()))
    return files
