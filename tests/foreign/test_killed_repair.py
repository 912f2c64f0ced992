"""A backend killed at every step of a repair, then a rerun: the database is always before or
after the merge (never in between), nothing is lost, and the rerun completes the repair.
Also killed in the middle of ``create unique index concurrently``, which leaves an invalid
index behind: the rerun drops and rebuilds it."""

from __future__ import annotations

import threading

import psycopg
import pytest

from harness import repair
from harness.doctor.mode import GENERIC

KILL = (
    "select pg_terminate_backend(pid, 10000) from pg_stat_activity"
    " where application_name = 'coachdb repair' and datname = current_database()"
)


def steps(url: str) -> list[str]:
    planned: list[str] = []
    repair.run(url, mode=GENERIC, dry_run=True, out=planned.append)
    return [s for s in planned if not s.startswith("-- ")]


def assert_nothing_lost(foreign, counts, owners, parent: str) -> int:
    """Every parent row is present or audited as merged (exactly once); every other table is
    untouched in rows and owners. Returns how many rows were merged away."""
    merged = [row for action, table, row in foreign.audit() if action == "merged"]
    pk = foreign.expected["primary_key"]
    assert len({str(row[pk]) for row in merged}) == len(merged), "a row audited twice"
    after = foreign.counts()
    assert after[parent] + len(merged) == counts[parent]
    now = foreign.owners()
    for table in foreign.tables():
        if table != parent:
            assert now[table] == owners[table], table
    return len(merged)


@pytest.mark.parametrize("team", ["seedapp", "trainly"])
def test_a_repair_killed_at_every_step_is_finished_by_a_rerun(make_foreign, team):
    first = make_foreign(team, "plan")
    planned = steps(first.url)
    assert len(planned) > 8
    parent = first.expected["table"]
    for index, statement in enumerate(planned):
        foreign = make_foreign(team, f"kill{index}")
        counts, owners = foreign.counts(), foreign.owners()
        seen = []

        def out(line: str, *, index=index, foreign=foreign, seen=seen) -> None:
            if line.startswith("-- "):
                return
            if len(seen) == index:
                with foreign.connect() as admin:
                    assert admin.execute(KILL).fetchall() == [(True,)]
            seen.append(line)

        with pytest.raises(psycopg.OperationalError):
            repair.run(foreign.url, mode=GENERIC, out=out)
        merged = assert_nothing_lost(foreign, counts, owners, parent)
        assert merged in (0, foreign.expected["duplicated_owners"]), f"killed before {statement[:60]}: half a merge"

        outcome = repair.run(foreign.url, mode=GENERIC, out=lambda _: None)

        assert outcome.problems == [], (index, outcome.problems)
        assert assert_nothing_lost(foreign, counts, owners, parent) == foreign.expected["duplicated_owners"]
        with foreign.connect() as conn:
            assert conn.execute(
                "select count(*) from pg_constraint where conname = %s", [foreign.expected["key"]]
            ).fetchone() == (1,), f"killed before step {index}: {statement[:60]}"
        assert repair.run(foreign.url, mode=GENERIC, out=lambda _: None).repairs == []


def test_killed_inside_the_concurrent_index_build_then_rerun(make_foreign):
    """A transaction holding an old snapshot keeps the build waiting with its index still
    invalid; the backend is killed right there."""
    foreign = make_foreign("seedapp", "cic")
    counts, owners = foreign.counts(), foreign.owners()
    blocker = foreign.connect()
    blocker.autocommit = False
    blocker.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # keeps its snapshot until it ends
    killed, finished = threading.Event(), threading.Event()

    def kill_when_waiting() -> None:
        with foreign.connect() as admin:
            while not finished.is_set():
                waiting = admin.execute(
                    "select pid from pg_stat_activity where application_name = 'coachdb repair'"
                    " and wait_event_type = 'Lock' and query ilike 'create unique index concurrently%'"
                ).fetchone()
                if waiting:
                    killed.set()
                    admin.execute("select pg_terminate_backend(%s, 10000)", [waiting[0]])
                    return
                finished.wait(0.05)

    def out(line: str) -> None:
        if line.startswith("create unique index concurrently"):
            blocker.execute("select count(*) from public.workouts")  # holds a snapshot from now on
            threading.Thread(target=kill_when_waiting, daemon=True).start()

    try:
        with pytest.raises(psycopg.OperationalError) as raised:
            repair.run(foreign.url, mode=GENERIC, out=out)
    finally:
        finished.set()
        blocker.rollback()
        blocker.close()
    assert killed.is_set(), raised.value
    with foreign.connect() as conn:
        assert conn.execute(
            "select indisvalid from pg_index where indexrelid = to_regclass('public.profiles_auth_user_id_unique')"
        ).fetchone() == (False,), "the interrupted build leaves an invalid index"

    rerun: list[str] = []
    outcome = repair.run(foreign.url, mode=GENERIC, out=rerun.append)

    assert outcome.problems == []
    assert any(s.startswith("drop index concurrently") for s in rerun)
    assert assert_nothing_lost(foreign, counts, owners, "public.profiles") == 5
    with foreign.connect() as conn:
        assert conn.execute(
            "select contype from pg_constraint where conname = 'profiles_auth_user_id_unique'"
        ).fetchone() == ("u",)
