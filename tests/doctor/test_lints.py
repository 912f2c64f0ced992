"""One test per advisor lint and drift rule, each on a database made to have the problem."""

from __future__ import annotations

import pytest

from harness.doctor import diagnose

CASES = {
    "rls_disabled_in_public": ["alter table public.plans disable row level security"],
    "rls_enabled_no_policy": [
        "create table public.notes (id int primary key, user_id uuid)",
        "alter table public.notes enable row level security",
    ],
    "auth_rls_initplan": [
        'create policy "per row" on public.workouts for select to authenticated using (auth.uid() = user_id)'
    ],
    "multiple_permissive_policies": [
        'create policy "second" on public.plans for select to authenticated using ((select auth.uid()) = user_id)'
    ],
    "function_search_path_mutable": ["create function app_private.loose() returns int language sql as 'select 1'"],
    "anon_security_definer_function_executable": [
        "create function public.powerful() returns int language sql security definer set search_path = ''"
        " as 'select 1'",
        "grant execute on function public.powerful() to anon",
    ],
    "security_definer_function_in_exposed_schema": [
        "create function public.definer() returns int language sql security definer set search_path = '' as 'select 1'",
        "revoke all on function public.definer() from public, anon",
    ],
    "auth_users_exposed": ["grant select on auth.users to authenticated"],
    "unindexed_foreign_keys": [
        "create table app_private.links (id int primary key, plan_id uuid references public.plans (id))"
    ],
    "seed_verification": [
        "revoke execute on function public.finalize_onboarding(text, jsonb, jsonb) from authenticated"
    ],
    "on_conflict_without_arbiter": [
        "create function app_private.upsert_tz(p text) returns void language plpgsql set search_path = '' as $$"
        " begin insert into app_private.known_timezones as k (name) values (p)"
        " on conflict on constraint no_such_constraint do nothing; end $$"
    ],
}

DRIFT = {
    "drift_extra_column": ["alter table public.plans add column colour text"],
    "drift_missing_index": ["drop index public.workouts_user_id_scheduled_on_idx"],
    "drift_changed_function": [
        "create or replace function app_private.default_plan_name(p_goal public.fitness_goal) returns text"
        " language sql immutable set search_path = '' as $$ select 'Plan' $$"
    ],
    "drift_changed_policy": ['alter policy "users can read their own plans" on public.plans using (true)'],
    "drift_missing_table": ["drop table public.idempotency_keys cascade"],
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_lint_fires_on_a_database_made_to_have_it(rule, db_url, admin):
    assert rule not in {f.name for f in diagnose(db_url, with_drift=False)}
    for statement in CASES[rule]:
        admin.execute(statement)
    findings = [f for f in diagnose(db_url, with_drift=False) if f.name == rule]
    assert findings, f"{rule} did not fire"
    assert all(f.detail and f.remediation and f.level in ("ERROR", "WARN", "INFO") for f in findings)


@pytest.mark.parametrize("rule", sorted(DRIFT))
def test_each_drift_rule_fires(rule, db_url, admin):
    for statement in DRIFT[rule]:
        admin.execute(statement)
    assert rule in {f.name for f in diagnose(db_url)}
