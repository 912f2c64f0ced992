"""What the SQL tree declares, read with PostgreSQL's own parser (pglast): the unique
constraints and unique indexes of ``db/schema/``. The doctor compares a live database with
these, and the repair restores the ones that are missing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pglast import ast, enums, parse_sql
from pglast.stream import RawStream

from harness import SQL_ROOT
from harness.sqltree import sql_files


@dataclass(frozen=True)
class UniqueKey:
    """A unique constraint (or unique index) the tree declares."""

    table: str  # schema-qualified: public.profiles
    name: str
    columns: tuple[str, ...]
    kind: str  # "constraint" or "index"
    predicate: str = ""  # a partial unique index's where clause
    file: str = ""

    @property
    def partial(self) -> bool:
        return bool(self.predicate)


def _qualified(relation: ast.RangeVar) -> str:
    return f"{relation.schemaname or 'public'}.{relation.relname}"


def declared_unique_keys(root: Path = SQL_ROOT) -> list[UniqueKey]:
    keys: list[UniqueKey] = []
    for file in sql_files(root, stages=("schema",)):
        for raw in parse_sql(file.text):
            stmt = raw.stmt
            if isinstance(stmt, ast.CreateStmt):
                table = _qualified(stmt.relation)
                for element in stmt.tableElts or ():
                    if isinstance(element, ast.ColumnDef):
                        for c in element.constraints or ():
                            if c.contype in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
                                suffix = "pkey" if c.contype == enums.ConstrType.CONSTR_PRIMARY else "key"
                                name = c.conname or f"{stmt.relation.relname}_{element.colname}_{suffix}"
                                if c.contype == enums.ConstrType.CONSTR_PRIMARY and not c.conname:
                                    name = f"{stmt.relation.relname}_pkey"
                                keys.append(UniqueKey(table, name, (element.colname,), "constraint", file=file.name))
                    elif isinstance(element, ast.Constraint) and element.contype in (
                        enums.ConstrType.CONSTR_PRIMARY,
                        enums.ConstrType.CONSTR_UNIQUE,
                    ):
                        columns = tuple(k.sval for k in element.keys)
                        keys.append(UniqueKey(table, element.conname, columns, "constraint", file=file.name))
            elif isinstance(stmt, ast.IndexStmt) and stmt.unique:
                columns = tuple(p.name for p in stmt.indexParams if p.name)
                keys.append(
                    UniqueKey(
                        _qualified(stmt.relation),
                        stmt.idxname,
                        columns,
                        "index",
                        predicate=RawStream()(stmt.whereClause) if stmt.whereClause is not None else "",
                        file=file.name,
                    )
                )
    return keys
