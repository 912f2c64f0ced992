"""on_conflict_without_arbiter: every ``INSERT ... ON CONFLICT`` in every SQL and plpgsql
function of the app's schemas, parsed with pglast, checked against the live table's unique
indexes. This is the seed's bug: an upsert whose conflict target matches no unique index
fails every call with 42P10, and a fresh test database never shows it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError, scan

from harness.doctor.declared import UniqueKey
from harness.doctor.findings import Finding

APP_SCHEMAS = ["public", "app_private"]

FUNCTIONS = """
select p.oid::regprocedure::text, l.lanname, p.prosrc
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
where n.nspname = any(%s) and l.lanname in ('sql', 'plpgsql') and p.prokind in ('f', 'p')
    and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
order by 1
"""

UNIQUE_INDEXES = """
select array(select a.attname::text from unnest(i.indkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord),
       i.indpred is not null
from pg_index i
where i.indrelid = to_regclass(%s) and i.indisunique and i.indisvalid and 0 <> all(i.indkey::int2[])
"""


def _insert_statements(body: str) -> Iterator[tuple[int, str]]:
    """Every INSERT in a plpgsql body, cut at its end (``;``) or at a top-level RETURNING
    (whose plpgsql ``INTO var`` is not SQL), with the body line it starts on. Tokens come
    from PostgreSQL's own scanner, so strings and dollar quotes never confuse it."""
    try:
        tokens = scan(body)
    except ParseError:
        return
    for i, token in enumerate(tokens):
        if token.name != "INSERT":
            continue
        depth, end = 0, len(body)
        for following in tokens[i + 1 :]:
            if following.name == "ASCII_40":
                depth += 1
            elif following.name == "ASCII_41":
                depth -= 1
            elif depth == 0 and following.name in ("ASCII_59", "RETURNING"):
                end = following.start
                break
        yield body.count("\n", 0, token.start) + 1, body[token.start : end]


def _upserts(sql: str) -> Iterator[ast.InsertStmt]:
    try:
        statements = parse_sql(sql)
    except ParseError:
        return
    for raw in statements:
        yield from _inserts_in(raw.stmt)


def _inserts_in(node: object) -> Iterator[ast.InsertStmt]:
    if isinstance(node, ast.InsertStmt) and node.onConflictClause is not None:
        yield node
    if isinstance(node, ast.Node):
        for attr in node:
            yield from _inserts_in(getattr(node, attr))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _inserts_in(item)


def statements_of(language: str, source: str) -> Iterator[tuple[int, str]]:
    if language == "sql":
        yield 1, source
    else:
        yield from _insert_statements(source)


def check(conn: psycopg.Connection, declared: list[UniqueKey]) -> list[Finding]:
    findings = []
    for signature, language, source in conn.execute(FUNCTIONS, [APP_SCHEMAS]).fetchall():
        for line, query in statements_of(language, source):
            for insert in _upserts(query):
                table = f"{insert.relation.schemaname or 'public'}.{insert.relation.relname}"
                finding = _arbiter_problem(conn, declared, signature, line, table, insert.onConflictClause)
                if finding:
                    findings.append(finding)
    return findings


def _arbiter_problem(conn, declared, signature, line, table, clause) -> Finding | None:
    where = f"{signature}, line {line}"
    if clause.infer is None:  # on conflict do nothing without a target: any unique index works
        return None
    if clause.infer.conname:
        exists = conn.execute(
            "select 1 from pg_constraint"
            " where conrelid = to_regclass(%s) and conname = %s and contype in ('u', 'p', 'x')",
            [table, clause.infer.conname],
        ).fetchone()
        if exists:
            return None
        return Finding(
            "on_conflict_without_arbiter",
            "ERROR",
            where,
            f"insert into {table} on conflict on constraint {clause.infer.conname}: "
            f"no such constraint on the live table; every call fails with 42P10",
            f"restore constraint {clause.infer.conname} (coachdb doctor --fix, or coachdb apply)",
        )
    columns = tuple(e.name for e in clause.infer.indexElems if e.name)
    partial_target = clause.infer.whereClause is not None
    for index_columns, partial in conn.execute(UNIQUE_INDEXES, [table]).fetchall():
        if set(index_columns) == set(columns) and (not partial or partial_target):
            return None
    wanted = [k.name for k in declared if k.table == table and set(k.columns) == set(columns)]
    missing = f"; the SQL tree declares it as {', '.join(wanted)}" if wanted else ""
    return Finding(
        "on_conflict_without_arbiter",
        "ERROR",
        where,
        f"insert into {table} on conflict ({', '.join(columns)}) has no arbiter: no unique index or "
        f"constraint on {table} ({', '.join(columns)}){missing}; every call fails with 42P10",
        f"add the unique constraint {wanted[0] if wanted else ''} (coachdb doctor --fix merges duplicates first)",
    )
