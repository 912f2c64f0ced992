"""on_conflict_without_arbiter: every ``INSERT ... ON CONFLICT`` in every SQL and plpgsql
function, parsed with pglast, checked against the live table's unique indexes. This is the
seed's bug: an upsert whose conflict target matches no unique index fails every call with
42P10, and a fresh test database never shows it.

The conflict target itself says which unique key the function needs (its table, columns and,
for a partial arbiter, its predicate), so the duplicates check and the generic repair derive
everything from it, on any database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError, scan
from pglast.stream import RawStream

from harness.doctor.declared import UniqueKey
from harness.doctor.findings import Finding

APP_SCHEMAS = ("public", "app_private")

FUNCTIONS = """
select p.oid::regprocedure::text, l.lanname,
       case when p.prosrc ~ '\\S' then p.prosrc else pg_get_functiondef(p.oid) end,
       coalesce((select substr(s, 13) from unnest(p.proconfig) s where s like 'search_path=%%' limit 1), ''),
       n.nspname::text
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


UNIQUE_INDEX_ELEMENTS = """
select array(select pg_get_indexdef(i.indexrelid, k, true) from generate_series(1, i.indnkeyatts) k),
       i.indpred is not null
from pg_index i
where i.indrelid = to_regclass(%s) and i.indisunique and i.indisvalid
"""


def _normal(element: str) -> str:
    """An index element as text, compared loosely: no spaces, quotes or outer parentheses."""
    text = element.replace(" ", "").replace('"', "").lower()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text


@dataclass(frozen=True)
class Upsert:
    """One ``INSERT ... ON CONFLICT`` with a target, where it is and what it needs."""

    function: str  # regprocedure: public.finalize_onboarding(text,jsonb)
    line: int  # the body line the INSERT starts on
    table: str  # schema-qualified, resolved as the function would resolve it
    columns: tuple[str, ...] = ()  # ON CONFLICT (columns)
    constraint: str = ""  # ON CONFLICT ON CONSTRAINT name
    predicate: str = ""  # ON CONFLICT (columns) WHERE predicate: a partial arbiter
    expression: bool = False  # the target has an expression, e.g. ON CONFLICT (lower(email))
    elements: tuple[str, ...] = ()  # every target element as text, columns and expressions alike

    @property
    def where(self) -> str:
        return f"{self.function}, line {self.line}"

    def key(self) -> UniqueKey:
        """The unique key this upsert needs, named ``<table>_<columns>_unique``."""
        name = f"{self.table.split('.', 1)[1]}_{'_'.join(self.columns)}_unique"[:63]
        return UniqueKey(self.table, name, self.columns, "index" if self.predicate else "constraint", self.predicate)


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


def _upserts(sql: str) -> Iterator[tuple[int, ast.InsertStmt]]:
    """(line offset within ``sql``, statement) for every INSERT with ON CONFLICT in it."""
    try:
        statements = parse_sql(sql)
    except ParseError:
        return
    for raw in statements:
        offset = sql.encode()[: raw.stmt_location or 0].decode(errors="ignore").count("\n")
        for insert in _inserts_in(raw.stmt):
            yield offset, insert


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


def _resolve(conn: psycopg.Connection, relation: ast.RangeVar, search_path: str, own_schema: str) -> str | None:
    """The table an unqualified name reaches through the function's pinned search_path (else
    public, then the function's own schema), as PostgreSQL would resolve it; None if none."""
    if relation.schemaname:
        candidates = [relation.schemaname]
    else:
        pinned = [s.strip().strip('"') for s in search_path.split(",") if s.strip().strip('"')]
        candidates = [s for s in pinned if s not in ("$user", "pg_temp")] or ["public", own_schema]
    for schema in candidates:
        found = conn.execute(
            "select format('%%s.%%s', n.nspname, c.relname)"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relname = %s and c.relkind in ('r', 'p')",
            [schema, relation.relname],
        ).fetchone()
        if found:
            return found[0]
    return None


def upserts(conn: psycopg.Connection, schemas: tuple[str, ...] = APP_SCHEMAS) -> list[Upsert]:
    """Every targeted upsert in the functions of ``schemas`` whose table exists."""
    found = []
    with conn.transaction():
        conn.execute("set local search_path = pg_catalog")  # signatures schema-qualified, as the lints print them
        functions = conn.execute(FUNCTIONS, [list(schemas)]).fetchall()
    for signature, language, source, search_path, own_schema in functions:
        for line, query in statements_of(language, source):
            for offset, insert in _upserts(query):
                clause = insert.onConflictClause
                if clause.infer is None:  # on conflict do nothing without a target: any unique index works
                    continue
                table = _resolve(conn, insert.relation, search_path, own_schema)
                if table is None:
                    continue  # a missing table is a different failure (42P01), not this rule's
                elems = clause.infer.indexElems or ()
                found.append(
                    Upsert(
                        signature,
                        line + offset,
                        table,
                        columns=tuple(e.name for e in elems if e.name),
                        constraint=clause.infer.conname or "",
                        predicate=RawStream()(clause.infer.whereClause) if clause.infer.whereClause else "",
                        expression=any(not e.name for e in elems),
                        elements=tuple(e.name or RawStream()(e.expr) for e in elems),
                    )
                )
    return found


def has_arbiter(conn: psycopg.Connection, upsert: Upsert) -> bool:
    """Whether the live table has what the upsert's ON CONFLICT target needs."""
    if upsert.constraint:
        return bool(
            conn.execute(
                "select 1 from pg_constraint"
                " where conrelid = to_regclass(%s) and conname = %s and contype in ('u', 'p', 'x')",
                [upsert.table, upsert.constraint],
            ).fetchone()
        )
    if upsert.expression:
        wanted = {_normal(e) for e in upsert.elements}
        for elements, partial in conn.execute(UNIQUE_INDEX_ELEMENTS, [upsert.table]).fetchall():
            if {_normal(e) for e in elements} == wanted and (not partial or upsert.predicate):
                return True
        return False
    for index_columns, partial in conn.execute(UNIQUE_INDEXES, [upsert.table]).fetchall():
        if set(index_columns) == set(upsert.columns) and (not partial or upsert.predicate):
            return True
    return False


def missing(conn: psycopg.Connection, schemas: tuple[str, ...] = APP_SCHEMAS) -> list[Upsert]:
    """The upserts whose arbiter the live database lacks: every call of them fails with 42P10."""
    return [u for u in upserts(conn, schemas) if not has_arbiter(conn, u)]


def finding(upsert: Upsert, declared: list[UniqueKey] | None = None) -> Finding:
    if upsert.constraint:
        return Finding(
            "on_conflict_without_arbiter",
            "ERROR",
            upsert.where,
            f"insert into {upsert.table} on conflict on constraint {upsert.constraint}: "
            f"no such constraint on the live table; every call fails with 42P10",
            f"restore constraint {upsert.constraint} on {upsert.table} (its columns are not in the function, "
            "so doctor --fix cannot derive it)",
        )
    if upsert.expression:
        target = ", ".join(upsert.elements)
        return Finding(
            "on_conflict_without_arbiter",
            "ERROR",
            upsert.where,
            f"insert into {upsert.table} on conflict ({target}) has no arbiter: no unique index on "
            f"{upsert.table} ({target}); every call fails with 42P10",
            f"create unique index concurrently ... on {upsert.table} ({target}) after merging its duplicates "
            "(doctor --fix derives only column keys)",
        )
    cols = ", ".join(upsert.columns)
    wanted = [k.name for k in declared or () if k.table == upsert.table and set(k.columns) == set(upsert.columns)]
    name = wanted[0] if wanted else upsert.key().name
    declared_note = f"; the SQL tree declares it as {', '.join(wanted)}" if wanted else ""
    partial = f" where {upsert.predicate}" if upsert.predicate else ""
    return Finding(
        "on_conflict_without_arbiter",
        "ERROR",
        upsert.where,
        f"insert into {upsert.table} on conflict ({cols}){partial} has no arbiter: no unique index or "
        f"constraint on {upsert.table} ({cols}){declared_note}; every call fails with 42P10",
        f"add the unique key {name} on {upsert.table} ({cols}): coachdb doctor --fix merges the "
        "duplicates first and adds it without blocking writes",
    )


def check(
    conn: psycopg.Connection, declared: list[UniqueKey] | None = None, schemas: tuple[str, ...] = APP_SCHEMAS
) -> list[Finding]:
    return [finding(u, declared) for u in missing(conn, schemas)]
