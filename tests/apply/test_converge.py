"""Hand changes to the repeatable objects are put back by apply: each kind of drift is an
ERROR for doctor, apply converges it (and says so), a second apply does nothing, and doctor
is clean. Schema drift that only a migration can undo is reported, never "repaired"."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.doctor import diagnose
from harness.loader import apply

COACHDB = [sys.executable, "-m", "harness.cli"]

# drift kind -> (the hand change, a query that is true once it is undone)
DRIFTS = {
    "rls_off": (
        "alter table public.plans disable row level security",
        "select relrowsecurity from pg_class where oid = 'public.plans'::regclass",
    ),
    "policy_dropped": (
        'drop policy "users can read their own plans" on public.plans',
        "select count(*) = 1 from pg_policies where tablename = 'plans'"
        " and policyname = 'users can read their own plans'",
    ),
    "policy_changed": (
        'alter policy "users can read their own workouts" on public.workouts to authenticated, anon using (true)',
        "select qual <> 'true' and roles = '{authenticated}' from pg_policies"
        " where policyname = 'users can read their own workouts'",
    ),
    "policy_added": (
        'create policy "everyone reads messages" on public.messages for select to authenticated using (true)',
        "select count(*) = 0 from pg_policies where policyname = 'everyone reads messages'",
    ),
    "grant_to_anon": (
        "grant select on public.profiles to anon",
        "select not has_table_privilege('anon', 'public.profiles', 'select')",
    ),
    "column_grant_added": (
        "grant update (goal) on public.profiles to authenticated",
        "select not has_column_privilege('authenticated', 'public.profiles', 'goal', 'update')",
    ),
    "grant_revoked": (
        "revoke select on public.workouts from authenticated",
        "select has_table_privilege('authenticated', 'public.workouts', 'select')",
    ),
    "function_grant_to_anon": (
        "grant execute on function public.export_my_data() to anon",
        "select not has_function_privilege('anon', 'public.export_my_data()', 'execute')",
    ),
    "function_body_replaced": (
        "create or replace function app_private.set_updated_at() returns trigger language plpgsql"
        " set search_path = '' as $$ begin return new; end $$",
        "select prosrc like '%now()%' from pg_proc where oid = 'app_private.set_updated_at()'::regprocedure",
    ),
    "function_dropped": (
        "drop function public.export_my_data()",
        "select to_regprocedure('public.export_my_data()') is not null"
        " and not has_function_privilege('anon', 'public.export_my_data()', 'execute')"
        " and has_function_privilege('authenticated', 'public.export_my_data()', 'execute')",
    ),
    "function_search_path_removed": (
        "alter function app_private.finalize_onboarding(text, jsonb, jsonb) reset search_path",
        "select coalesce(proconfig::text like '%search_path=%', false) from pg_proc"
        " where oid = 'app_private.finalize_onboarding(text, jsonb, jsonb)'::regprocedure",
    ),
    "trigger_dropped": (
        "drop trigger profiles_set_updated_at on public.profiles",
        "select count(*) = 1 from pg_trigger where tgname = 'profiles_set_updated_at'",
    ),
    "comment_changed": (
        "comment on table public.plans is 'whatever'",
        "select obj_description('public.plans'::regclass, 'pg_class') <> 'whatever'",
    ),
}


#: the doctor finding each drift must raise, as an ERROR
FINDING = {
    "rls_off": "drift_changed_rls",
    "policy_dropped": "drift_missing_policy",
    "policy_changed": "drift_changed_policy",
    "policy_added": "drift_extra_policy",
    "grant_to_anon": "drift_changed_grant",
    "column_grant_added": "drift_extra_grant",
    "grant_revoked": "drift_changed_grant",
    "function_grant_to_anon": "drift_changed_grant",
    "function_body_replaced": "drift_changed_function",
    "function_dropped": "drift_missing_function",
    "function_search_path_removed": "drift_changed_function",
    "trigger_dropped": "drift_missing_trigger",
    "comment_changed": "drift_changed_comment",
}


@pytest.mark.parametrize("kind", sorted(DRIFTS))
def test_drift_is_an_error_apply_converges_it_and_a_second_apply_does_nothing(kind, db_url, admin):
    change, undone = DRIFTS[kind]
    admin.execute(change)
    assert admin.execute(undone).fetchone() == (False,)

    errors = {f.name for f in diagnose(db_url) if f.level == "ERROR"}
    assert FINDING[kind] in errors, errors

    first = apply(db_url)
    assert admin.execute(undone).fetchone() == (True,)
    assert first.repaired and first.applied == [] and first.unresolved == []

    second = apply(db_url)
    assert second.repaired == [] and second.applied == [] and second.skipped == []
    assert diagnose(db_url) == []


def test_apply_reports_what_it_repaired(db_url, admin):
    admin.execute("grant select on public.profiles to anon")
    admin.execute("alter table public.messages disable row level security")
    result = subprocess.run([*COACHDB, "apply", "--url", db_url], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "repaired  privileges on table public.profiles: revoked anon:select" in result.stdout
    assert "repaired  row level security on public.messages: disabled -> enabled" in result.stdout


@pytest.mark.parametrize(
    ("change", "finding", "object_"),
    [
        (
            "alter table public.profiles drop column onboarded_at",
            "drift_missing_column",
            "public.profiles.onboarded_at",
        ),
        ("alter table public.plans alter column weeks type bigint", "drift_changed_column", "public.plans.weeks"),
    ],
)
def test_data_losing_drift_is_reported_with_its_remedy_and_never_repaired(change, finding, object_, db_url, admin):
    admin.execute(change)
    before = admin.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid in ('public.profiles'::regclass, 'public.plans'::regclass) and attnum > 0 order by 1, 2"
    ).fetchall()

    report = apply(db_url)

    found = [f for f in report.unresolved if (f.name, f.object) == (finding, object_)]
    assert len(found) == 1, report.unresolved
    assert "coachdb diff" in found[0].remediation and "never repairs" in found[0].remediation
    after = admin.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid in ('public.profiles'::regclass, 'public.plans'::regclass) and attnum > 0 order by 1, 2"
    ).fetchall()
    assert after == before  # nothing dropped or altered to "fix" it
    result = subprocess.run([*COACHDB, "apply", "--url", db_url], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert f"{finding}: {object_}" in result.stdout
