"""The write figures' pgbench scripts do what the figures claim: every call either side makes
writes its rows (none is a replay, a miss or an error counted as a call), on each server of
the matrix; and a script that fails stops the figure with the database's own message."""

from __future__ import annotations

import psycopg
import pytest

from harness import bench
from harness.errors import HarnessError
from harness.generate import Scale, generate
from harness.pgbench import binary, run
from harness.providers._binaries import BinariesProvider

CLIENTS, CALLS = 2, 3
#: Transactions pgbench makes in one round: both sides, each client, warm-up included.
TRANSACTIONS = 2 * CLIENTS * (bench.WARMUP + CALLS)

COUNTS = """
select (select count(*) from public.profiles),
    (select count(*) from public.plans),
    (select count(*) from public.workouts),
    (select count(*) from public.workouts where status = 'completed'),
    (select count(*) from public.messages)
"""


class Quiet:
    def update(self, k: int = 1) -> None:
        pass


@pytest.fixture
def pgbench(provider):
    if not isinstance(provider, BinariesProvider):
        pytest.skip("the write figures run the pgbench beside the server's binaries; this pass has none")
    return binary(provider.bin_dir())


@pytest.fixture
def small(db_url: str) -> str:
    generate(db_url, Scale(40, 4_000, 2_000))
    return db_url


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(COUNTS).fetchone()
    return dict(zip(("profiles", "plans", "workouts", "completed", "messages"), row, strict=True))


@pytest.mark.parametrize(
    ("name", "grows"),
    [
        ("finalize_onboarding", {"profiles": 1, "plans": 1, "workouts": 12}),
        ("post_message", {"messages": 1}),
        ("complete_workout", {"completed": 1}),
    ],
)
def test_every_call_of_both_sides_writes_its_rows(name, grows, small, pgbench):
    before = counts(small)
    figure = bench.bench_write(small, pgbench, name, 40, 1, CLIENTS, CALLS, Quiet())
    after = counts(small)
    assert {k: after[k] - before[k] for k in grows} == {k: n * TRANSACTIONS for k, n in grows.items()}
    assert len(figure.rounds) == 1 and figure.rounds[0] > 0
    assert figure.detail["rpc calls/s"][0] > 0 and figure.detail["floor calls/s"][0] > 0


def test_a_failing_script_is_an_error_naming_the_database_message(db_url, pgbench):
    script = bench.NEXT_CALL + "select 1 / (:n::int - :n::int);\n"
    with pytest.raises(HarnessError, match="division by zero"):
        run(pgbench, db_url, script, 2, 1, {"k": 0, "base": 0, "per": 1})
