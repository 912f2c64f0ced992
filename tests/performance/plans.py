"""Reading query plans: every statement an RPC executes, captured with auto_explain
(``log_nested_statements``, ``log_analyze`` without timing), and the two findings the JIT
lock looks for in them.

Why plans and not a stopwatch: on PostgreSQL's default settings (``jit = on``) a statement
planned above ``jit_above_cost`` is compiled with LLVM before it runs, milliseconds for a
statement that touches a dozen rows. The cost is a planner fact, the same on every machine
and every server build (with or without LLVM), so the lock holds everywhere without timing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pglast
import psycopg
from psycopg import sql

from harness.context import set_request_context

#: An estimate more than this many times its real row count (or less than its inverse) is
#: "off by orders of magnitude". Two orders, not one: the planner's built-in estimates for
#: small things are coarse by design (jsonb_object_keys is 100 rows for 1 to 7 keys), while
#: the defect this guards against was 1,000 per series for 3 and 4, multiplied to 1,000,000.
ESTIMATE_FACTOR = 100

#: Plan nodes that run a set-returning function: their estimate comes from the function's
#: ``rows`` (or a support function), not from statistics.
SRF_NODES = {"Function Scan", "ProjectSet", "Table Function Scan"}


@dataclass(frozen=True)
class Statement:
    """One executed statement: its text and its plan (JSON, with actual rows)."""

    text: str
    plan: dict

    @property
    def cost(self) -> float:
        return self.plan["Total Cost"]

    def label(self) -> str:
        return " ".join(self.text.split())[:120]


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def capture(conn: psycopg.Connection) -> list[Statement]:
    """Make ``conn`` (a superuser's) report the plan of every statement it executes, nested
    ones included, as notices; returns the list they are appended to. Raises
    ``psycopg.errors.UndefinedFile`` where the server's build has no auto_explain."""
    statements: list[Statement] = []
    conn.execute("load 'auto_explain'")
    for setting, value in {
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_analyze": "on",
        "auto_explain.log_timing": "off",
        "auto_explain.log_format": "json",
        "auto_explain.log_level": "notice",
    }.items():
        conn.execute(f"set {setting} = '{value}'")

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        message = diag.message_primary or ""
        if "plan:" in message:
            explained = json.loads(message.split("plan:", 1)[1])
            statements.append(Statement(explained.get("Query Text", ""), explained["Plan"]))

    conn.add_notice_handler(on_notice)
    return statements


def run_captured(
    conn: psycopg.Connection, statements: list[Statement], role: str, claims: dict, call: str, params: list
) -> list[Statement]:
    """Run ``call`` as ``role`` with ``claims`` (PostgREST's request) in a transaction that
    is rolled back; the statements it executed, outermost last."""
    statements.clear()
    with conn.transaction(force_rollback=True):
        set_request_context(conn, role, claims)
        conn.execute(call, params)
    return list(statements)


def over_jit_threshold(statements: list[Statement], jit_above_cost: float) -> list[str]:
    """Statements planned at a cost that makes a JIT-enabled server compile them."""
    return [f"cost {s.cost:,.0f}: {s.label()}" for s in statements if s.cost > jit_above_cost]


def misestimated(statements: list[Statement], factor: float = ESTIMATE_FACTOR) -> list[str]:
    """Set-returning function nodes whose row estimate is off from the rows they really
    returned (per loop) by more than ``factor`` either way. Nodes that never ran are left out."""
    found = []
    for statement in statements:
        for node in nodes(statement.plan):
            if node["Node Type"] not in SRF_NODES or not node.get("Actual Loops"):
                continue
            estimated, actual = max(node["Plan Rows"], 1), max(node["Actual Rows"], 1)
            if estimated > factor * actual or actual > factor * estimated:
                name = node.get("Function Name") or node["Node Type"]
                found.append(
                    f"{name}: estimated {node['Plan Rows']:,} rows, "
                    f"returned {node['Actual Rows']:,}: {statement.label()}"
                )
    return found


#: The app's set-returning functions, in the schemas it owns.
SET_RETURNING_FUNCTIONS = """
select p.oid::regprocedure::text, l.lanname, pg_catalog.pg_get_functiondef(p.oid),
    array(
        select a.name
        from unnest(p.proargnames, p.proargmodes) with ordinality as a (name, mode, position)
        where coalesce(a.mode, 'i') in ('i', 'b', 'v')
        order by a.position
    ),
    array(select pg_catalog.format_type(t, null) from unnest(p.proargtypes::oid []) as t)
from pg_catalog.pg_proc as p
join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
join pg_catalog.pg_language as l on l.oid = p.prolang
where p.proretset and n.nspname in ('public', 'app_private')
order by 1
"""


def set_returning_functions(conn: psycopg.Connection) -> dict[str, tuple[str, str, list[str], list[str]]]:
    """``signature -> (language, definition, argument names, argument types)``."""
    return {row[0]: row[1:] for row in conn.execute(SET_RETURNING_FUNCTIONS).fetchall()}


def body_query(language: str, definition: str) -> str:
    """The one query a set-returning function's body runs: a ``language sql`` body as it
    is, a plpgsql body's ``return query`` (found with pglast, PostgreSQL's own parser)."""
    body = pglast.parse_plpgsql(definition)[0]["PLpgSQL_function"]
    if language == "sql":
        return definition.split("$function$")[1]
    queries = [stmt["query"]["PLpgSQL_expr"]["query"] for stmt in _plpgsql_statements(body) if "query" in stmt]
    if len(queries) != 1:
        raise AssertionError(f"expected one `return query` in the body, found {len(queries)}")
    return queries[0]


def _plpgsql_statements(node: object) -> Iterator[dict]:
    """Every ``return query`` statement in a parsed plpgsql body, however deeply nested."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "PLpgSQL_stmt_return_query":
                yield value
            else:
                yield from _plpgsql_statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _plpgsql_statements(item)


def explain_body(conn: psycopg.Connection, query: str, names: list[str], types: list[str], args: list) -> Statement:
    """The plan of a function body's query as the function runs it: its arguments are
    parameters with no known value (a generic plan, as plpgsql caches it), executed with
    ``args`` so that the plan carries real row counts. Works on every server, auto_explain
    or not."""
    text = query
    for index, name in sorted(enumerate(names, start=1), key=lambda item: -len(item[1])):
        text = _replace_name(text, name, f"${index}")
    with conn.transaction(force_rollback=True):
        conn.execute("set local plan_cache_mode = force_generic_plan")
        conn.execute(f"prepare coachdb_srf_body ({', '.join(types)}) as {text}")
        try:
            literals = sql.SQL(", ").join(sql.Literal(arg) for arg in args)
            query_ = sql.SQL("explain (analyze, timing off, format json) execute coachdb_srf_body ({})").format(
                literals
            )
            plan = conn.execute(query_).fetchone()[0][0]["Plan"]
        finally:
            conn.execute("deallocate coachdb_srf_body")
    return Statement(query, plan)


def _replace_name(text: str, name: str, replacement: str) -> str:
    """``name`` as a whole identifier (not inside a longer one) replaced: the app names its
    arguments ``p_*``, which no column or keyword shares."""
    return re.sub(rf"(?<![\w$.]){re.escape(name)}(?!\w)", replacement, text)
