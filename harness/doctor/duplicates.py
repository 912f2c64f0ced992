"""missing_unique_constraint and duplicates_block_unique_constraint: a unique key the SQL
tree declares (or an ``ON CONFLICT`` target needs) that the live table lacks, and the
duplicate rows that would stop it from being added."""

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
    # NULLs never collide under a unique key, so rows with a NULL in the key are not duplicates
    conditions = [sql.SQL("{} is not null").format(sql.Identifier(c)) for c in key.columns]
    if key.predicate:
        conditions.append(sql.SQL("(" + key.predicate + ")"))
    where = sql.SQL(" where ") + sql.SQL(" and ").join(conditions)
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


def has_columns(conn: psycopg.Connection, key: UniqueKey) -> bool:
    """Whether the live table exists with every column of the key (else the key is not this
    check's business: drift reports a missing table or column)."""
    found = conn.execute(
        "select count(*) from pg_attribute where attrelid = to_regclass(%s) and attname = any(%s)"
        " and attnum > 0 and not attisdropped",
        [key.table, list(key.columns)],
    ).fetchone()[0]
    return found == len(set(key.columns))


def blocking(conn: psycopg.Connection, key: UniqueKey, needed_by: str) -> list[Finding]:
    """duplicates_block_unique_constraint for one key, if rows share it."""
    groups, rows, sample = duplicate_groups(conn, key)
    if not groups:
        return []
    return [
        Finding(
            "duplicates_block_unique_constraint",
            "ERROR",
            f"{key.table}.{key.name}",
            f"{groups} key(s) are shared by {rows} rows, so {key.name} ({', '.join(key.columns)}){needed_by} "
            f"cannot be added as it is; e.g. {', '.join(str(s) for s in sample)}",
            "coachdb doctor --fix keeps the most recently updated row of each key, re-points child "
            "rows to it and keeps every merged row in coachdb_meta.merged_rows",
        )
    ]


def check_targets(conn: psycopg.Connection, keys: dict[UniqueKey, str]) -> list[Finding]:
    """The duplicates in the way of each key an ON CONFLICT target needs (key -> function)."""
    findings = []
    for key, function in keys.items():
        if has_columns(conn, key) and not is_present(conn, key):
            findings += blocking(conn, key, f", which {function} needs,")
    return findings


def check(conn: psycopg.Connection, declared: list[UniqueKey]) -> list[Finding]:
    findings = []
    for key in declared:
        if not has_columns(conn, key):
            continue  # a missing table or column is drift's to report
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
        findings += blocking(conn, key, "")
    return findings
