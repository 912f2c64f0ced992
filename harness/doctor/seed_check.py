"""seed_verification: what the seed project's simple-migration.js checked after deploying,
on the live database: finalize_onboarding exists, authenticated may execute it, and a call
without identity is refused with 42501 (run inside a transaction that is rolled back)."""

from __future__ import annotations

import psycopg

from harness.context import set_request_context
from harness.doctor.findings import Finding

SIGNATURE = "public.finalize_onboarding(text, jsonb, jsonb)"


def check(conn: psycopg.Connection) -> list[Finding]:
    def problem(detail: str, remediation: str) -> list[Finding]:
        return [Finding("seed_verification", "ERROR", SIGNATURE, detail, remediation)]

    if conn.execute("select to_regprocedure(%s)", [SIGNATURE]).fetchone()[0] is None:
        return problem("finalize_onboarding does not exist", "coachdb apply --url URL")
    if not conn.execute("select has_function_privilege('authenticated', %s, 'execute')", [SIGNATURE]).fetchone()[0]:
        return problem(
            "authenticated may not execute finalize_onboarding", "grant execute on the function to authenticated"
        )
    state = None
    try:
        with conn.transaction(force_rollback=True):
            set_request_context(conn, "authenticated", {"role": "authenticated"})
            conn.execute("select public.finalize_onboarding('doctor', '{}'::jsonb, '{}'::jsonb)")
    except psycopg.Error as exc:
        state = exc.sqlstate
    if state != "42501":
        return problem(
            f"a call without identity answered {state or 'success'}, not 42501",
            "the function must take identity from auth.uid() and refuse a missing one",
        )
    return []
