"""missing_unique_constraint and duplicates_block_unique_constraint: a unique key the SQL
tree declares that the live table lacks, and the duplicate rows that would stop it from
being added back."""

from __future__ import annotations

import psycopg
from psycopg import sql

from harness.doctor.declared import UniqueKey
from harness.doctor.findings import Finding

LIVE_UNIQUE = """
select array(select a.attname::text from unnest(i.indkey) k(attnum)
             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum),
       i.indpred is not null, c.relname, i.indisvalid
from pg_index i join pg_class c on c.oid = i.indexrelid
where i.indrelid = to_regclass(%s) and i.indisunique
"""


def is_present(conn: psycopg.Connection, key: UniqueKey) -> bool:
    """True when the live table has a valid unique index on the same columns (any name)."""
    for columns, partial, _name, valid in conn.execute(LIVE_UNIQUE, [key.table]).fetchall():
        if valid and set(columns) == set(key.columns) and partial == key.partial:
            return True
    return False


def duplicate_groups(conn: psycopg.Connection, key: UniqueKey, sample: int = 3) -> tuple[int, int, list[dict]]:
    """(groups, rows in them, sample keys) of rows that share the key's columns."""
    schema, table = key.table.split(".", 1)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in key.columns)
    where = sql.SQL(" where " + key.predicate) if key.predicate else sql.SQL("")
    query = sql.SQL(
        "select count(*), coalesce(sum(n), 0), (array_agg(k order by n desc))[1:{}] from ("
        " select jsonb_build_object({}) as k, count(*) as n from {}.{}{} group by {} having count(*) > 1) d"
    ).format(
        sql.Literal(sample),
        sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(c), sql.Identifier(c)) for c in key.columns),
        sql.Identifier(schema),
        sql.Identifier(table),
        where,
        cols,
    )
    groups, rows, keys = conn.execute(query).fetchone()
    return groups, int(rows), keys or []


def check(conn: psycopg.Connection, declared: list[UniqueKey]) -> list[Finding]:
    findings = []
    for key in declared:
        if conn.execute("select to_regclass(%s)", [key.table]).fetchone()[0] is None:
            continue  # a missing table is drift's to report
        if is_present(conn, key):
            continue
        findings.append(
            Finding(
                "missing_unique_constraint",
                "ERROR",
                f"{key.table}.{key.name}",
                f"{key.file} declares unique ({', '.join(key.columns)}) on {key.table}; the live table has no "
                "unique index on those columns",
                "coachdb doctor --fix (or coachdb apply) merges duplicates and adds it back concurrently",
            )
        )
        groups, rows, sample = duplicate_groups(conn, key)
        if groups:
            findings.append(
                Finding(
                    "duplicates_block_unique_constraint",
                    "ERROR",
                    f"{key.table}.{key.name}",
                    f"{groups} key(s) are shared by {rows} rows, so {key.name} cannot be added as it is; "
                    f"e.g. {', '.join(str(s) for s in sample)}",
                    "coachdb doctor --fix keeps the most recently updated row of each key, re-points child "
                    "rows to it and keeps every merged row in coachdb_meta.merged_rows",
                )
            )
    return findings
