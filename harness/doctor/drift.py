"""drift_missing_* / drift_extra_* / drift_changed_*: the live database against a reference
built from the SQL tree (a scratch database on the same server, or an embedded server when
the live one will not let us create a database). Compared: tables, columns, constraints,
indexes, policies and function definitions of the app's schemas."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from harness import SQL_ROOT
from harness.doctor.declared import UniqueKey
from harness.doctor.findings import Finding
from harness.loader import apply
from harness.providers.base import to_url

SCHEMAS = ["public", "app_private"]

SNAPSHOT = {
    "table": """
        select format('%%I.%%I', n.nspname, c.relname), c.relkind::text
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')""",
    "column": """
        select format('%%I.%%I.%%I', n.nspname, c.relname, a.attname),
               format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
               || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where n.nspname = any(%s) and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped""",
    "constraint": """
        select format('%%I.%%I.%%I', n.nspname, c.relname, k.conname), pg_get_constraintdef(k.oid)
        from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s)""",
    "index": """
        select format('%%I.%%I', n.nspname, i.relname), pg_get_indexdef(i.oid)
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
        where n.nspname = any(%s)
            and not exists (select from pg_constraint k where k.conindid = i.oid and k.contype in ('p','u','x'))""",
    "policy": """
        select format('%%I.%%I: %%s', n.nspname, c.relname, p.polname),
               concat_ws(' | ', p.polcmd, p.polpermissive, p.polroles::regrole[]::text,
                         pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
        from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s)""",
    "function": """
        select p.oid::regprocedure::text,
               md5(concat_ws(' | ', p.prosrc, p.prosecdef, p.provolatile, coalesce(p.proconfig, '{}')::text,
                             pg_get_function_result(p.oid)))
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%s)
            and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')""",
}

Snapshot = dict[str, dict[str, str]]


def snapshot(conn: psycopg.Connection) -> Snapshot:
    with conn.transaction():
        conn.execute("set local search_path = pg_catalog")  # qualify every name in the output
        return {kind: dict(conn.execute(query, [SCHEMAS]).fetchall()) for kind, query in SNAPSHOT.items()}


@contextlib.contextmanager
def reference_database(live_url: str, root: Path = SQL_ROOT) -> Iterator[str]:
    """A database with the SQL tree applied: a scratch one on the live server when allowed,
    else on a throwaway embedded server."""
    name = f"coachdb_doctor_ref_{uuid.uuid4().hex[:8]}"
    params = conninfo_to_dict(live_url)
    try:
        with psycopg.connect(live_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {} template template0").format(sql.Identifier(name)))
    except psycopg.Error:
        from harness.providers import get_provider

        with get_provider("embedded") as server:
            apply(server.url, root=root)
            yield server.url
        return
    url = to_url({**params, "dbname": name})
    try:
        apply(url, root=root)
        yield url
    finally:
        with psycopg.connect(live_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def compare(reference: Snapshot, live: Snapshot, declared: list[UniqueKey]) -> list[Finding]:
    covered = {f"{k.table}.{k.name}" for k in declared}  # missing unique keys have their own check
    covered |= {f"{k.table.split('.')[0]}.{k.name}" for k in declared if k.kind == "index"}
    findings = []
    for kind in SNAPSHOT:
        ref, cur = reference[kind], live[kind]
        for name in sorted(ref.keys() - cur.keys()):
            if name in covered:
                continue
            findings.append(
                Finding(
                    f"drift_missing_{kind}",
                    "ERROR",
                    name,
                    f"the SQL tree has {kind} {name}; the live database does not",
                    "coachdb apply --url URL (schema objects added by hand need a new schema file)",
                )
            )
        for name in sorted(cur.keys() - ref.keys()):
            findings.append(
                Finding(
                    f"drift_extra_{kind}",
                    "WARN",
                    name,
                    f"the live database has {kind} {name}; the SQL tree does not",
                    "add it to the SQL tree, or drop it if it was a manual experiment",
                )
            )
        for name in sorted(ref.keys() & cur.keys()):
            if ref[name] != cur[name]:
                findings.append(
                    Finding(
                        f"drift_changed_{kind}",
                        "WARN",
                        name,
                        f"{kind} {name} differs: live {cur[name]!r}, tree {ref[name]!r}"
                        if kind != "function"
                        else f"function {name} has a definition other than the SQL tree's",
                        "coachdb apply --url URL re-applies changed functions and policies",
                    )
                )
    return findings


def check(conn: psycopg.Connection, live_url: str, declared: list[UniqueKey], root: Path = SQL_ROOT) -> list[Finding]:
    with reference_database(live_url, root) as ref_url, psycopg.connect(ref_url, autocommit=True) as ref:
        reference = snapshot(ref)
    return compare(reference, snapshot(conn), declared)
