"""seed_verification: what the seed project's simple-migration.js checked after deploying,
on the live database: the function exists, authenticated may execute it, and a call without
identity is refused with 42501 (run inside a transaction that is rolled back).

On a coachdb database it checks coachdb's ``finalize_onboarding``; on any database it checks
every function an ``on_conflict_without_arbiter`` finding names, whatever its signature,
called with NULL for every argument.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from harness.context import set_request_context
from harness.doctor.findings import Finding, skipped

SIGNATURE = "public.finalize_onboarding(text, jsonb, jsonb)"
RULE = "seed_verification"


def check(conn: psycopg.Connection) -> list[Finding]:
    """coachdb's own sign-up function, as the tree declares it."""

    def problem(detail: str, remediation: str) -> list[Finding]:
        return [Finding(RULE, "ERROR", SIGNATURE, detail, remediation)]

    if conn.execute("select to_regprocedure(%s)", [SIGNATURE]).fetchone()[0] is None:
        return problem("finalize_onboarding does not exist", "coachdb apply --url URL")
    if conn.execute("select to_regrole('authenticated')").fetchone()[0] is None:
        return problem("there is no role authenticated", "coachdb apply --url URL (it installs the stand-in roles)")
    if not conn.execute("select pg_has_role(current_user, 'authenticated', 'member')").fetchone()[0]:
        return [skipped(RULE, f"{conn.info.user} may not act as authenticated, so it cannot call as a client does")]
    if not conn.execute("select has_function_privilege('authenticated', %s, 'execute')", [SIGNATURE]).fetchone()[0]:
        return problem(
            "authenticated may not execute finalize_onboarding", "grant execute on the function to authenticated"
        )
    state = _call_without_identity(conn, SIGNATURE)
    if state != "42501":
        return problem(
            f"a call without identity answered {state or 'success'}, not 42501",
            "the function must take identity from auth.uid() and refuse a missing one",
        )
    return []


def check_functions(conn: psycopg.Connection, signatures: list[str]) -> list[Finding]:
    """The same verification for each function an ON CONFLICT finding named."""
    if not signatures:
        return []
    role = conn.execute("select oid from pg_roles where rolname = 'authenticated'").fetchone()
    if role is None:
        return [skipped(RULE, "there is no role authenticated on this server (not a Supabase-style database)")]
    if not conn.execute("select pg_has_role(current_user, %s, 'member')", [role[0]]).fetchone()[0]:
        return [skipped(RULE, f"{conn.info.user} may not act as authenticated, so it cannot call as a client does")]
    findings = []
    for signature in dict.fromkeys(signatures):
        if not conn.execute(
            "select has_function_privilege(%s, %s::regprocedure, 'execute')", [role[0], signature]
        ).fetchone()[0]:
            findings.append(
                Finding(RULE, "ERROR", signature, "authenticated may not execute it",
                        f"grant execute on function {signature} to authenticated")
            )  # fmt: skip
            continue
        state = _call_without_identity(conn, signature)
        if state == "42501":
            continue
        if state == "42P10":
            detail = "a call without identity reached its upsert and failed with 42P10 (no arbiter) instead of 42501"
        elif state is None:
            detail = "a call without identity succeeded (rolled back): it does not require authentication"
        else:
            detail = f"a call without identity answered {state}, not 42501: it may not check identity first"
        findings.append(
            Finding(RULE, "WARN" if state != "42P10" else "ERROR", signature, detail,
                    "take identity from auth.uid() and refuse a missing one (42501) before anything else")
        )  # fmt: skip
    return findings


def _call_without_identity(conn: psycopg.Connection, signature: str) -> str | None:
    """The SQLSTATE a call as authenticated without a user answers (None: it succeeded),
    with NULL for every argument, in a transaction that is always rolled back."""
    schema, name, kind, types = conn.execute(
        "select n.nspname::text, p.proname::text, p.prokind::text,"
        " array(select format_type(t, null) from unnest(p.proargtypes) t)"
        " from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.oid = %s::regprocedure",
        [signature],
    ).fetchone()
    args = sql.SQL(", ").join(sql.SQL("null::" + t) for t in types)
    verb = sql.SQL("call" if kind == "p" else "select")
    statement = sql.SQL("{} {}({})").format(verb, sql.Identifier(schema, name), args)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("set local statement_timeout = '5s'")
            set_request_context(conn, "authenticated", {"role": "authenticated"})
            conn.execute(statement)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None
