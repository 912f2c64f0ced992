"""``coachdb bench``: the hot paths measured as ratios against their floors, in one run.

Every figure is a ratio of two things measured side by side on the same machine in the same
run, repeated over rounds (interleaved, so drift hits both sides); the report gives each
ratio's median and spread and warns when the spread is too wide to trust. Absolute numbers
are printed for orientation only.

    finalize_onboarding   8 concurrent clients, calls/s of the RPC (request context, RLS,
                          validation, idempotency) vs a hand-written floor inserting the same
                          rows with plain SQL in one transaction per call.   target <= 1.5x
    post_message,         likewise, 8 clients on the full dataset: the RPC vs the plain insert
    complete_workout      (+ conversation update) / the plain update.       target <= 1.5x
    rls reads             a week of workouts, the last 20 messages, the profile: as
                          `authenticated` under RLS vs the table owner with the owner filter
                          written out, at the full scale.                     target <= 1.2x
    get_chat_context      at the full scale vs at 1,000 messages.           target <= 2x
    clone, up             a fresh per-test database, and `coachdb up` from nothing (absolute)

The RPC side calls as PostgREST does, with its schema cache: the call's SQL is built once
per function (``rpc_query``), and each call is one request (role and claims set
transaction-locally, then the call). Each round runs both sides in interleaved slices
(SLICES), the order alternating; get_chat_context alternates large and small call by call.
Every figure is taken per server; ``--provider all`` runs the whole bench on each server of
the matrix in turn (``harness.providers.MATRIX``), each with its default settings.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from harness.context import argument_types, request, rpc_query, set_request_context
from harness.databases import DatabaseFactory
from harness.errors import HarnessError
from harness.generate import Scale, bench_conversation, bench_user, generate, md5_uuid, user_id_sql
from harness.providers import Provider, get_provider
from harness.providers.local import free_port

SPREAD_WARNING = 0.25  # (max - min) / median of a ratio across rounds
WRITE_TARGET = 1.5  # an RPC's cost over its plain-SQL floor, 8 clients

PROFILE = {"display_name": "Bench", "goal": "endurance", "days_per_week": 3, "timezone": "Europe/Paris"}
PLAN = {"weeks": 4, "starts_on": "2030-01-07"}

FLOOR = [
    """insert into public.profiles as p (auth_user_id, display_name, goal, days_per_week, timezone, onboarded_at)
    values (%(u)s, 'Bench', 'endurance', 3, 'Europe/Paris', now())
    on conflict (auth_user_id) do update set display_name = excluded.display_name""",
    "update public.plans set status = 'archived', archived_at = now() where user_id = %(u)s and status = 'active'",
    """insert into public.plans (id, user_id, name, goal, status, starts_on, weeks, activated_at)
    values (%(p)s, %(u)s, 'Endurance plan', 'endurance', 'active', '2030-01-07', 4, now())""",
    """insert into public.workouts (user_id, plan_id, scheduled_on, kind, title, targets)
    select %(u)s, %(p)s, date '2030-01-07' + w * 7 + s * 7 / 3, 'run', 'Run, week ' || w + 1,
        jsonb_build_object('duration_min', 30 + 5 * w, 'intensity', 'moderate')
    from generate_series(0, 3) as w, generate_series(0, 2) as s""",
]

READS = {
    "week of workouts": (
        "select * from public.workouts where scheduled_on between current_date and current_date + 6"
        " order by scheduled_on",
        "select * from public.workouts where user_id = %(u)s"
        " and scheduled_on between current_date and current_date + 6 order by scheduled_on",
    ),
    "last 20 messages": (
        "select * from public.messages where conversation_id = %(c)s order by created_at desc, id desc limit 20",
        "select * from public.messages where user_id = %(u)s and conversation_id = %(c)s"
        " order by created_at desc, id desc limit 20",
    ),
    "profile": (
        "select * from public.profiles",
        "select * from public.profiles where auth_user_id = %(u)s",
    ),
}


@dataclass
class Figure:
    name: str
    unit: str
    rounds: list[float] = field(default_factory=list)
    target: float | None = None
    detail: dict[str, list[float]] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)

    @property
    def spread(self) -> float:
        if len(self.rounds) < 2 or self.median == 0:
            return 0.0
        return (max(self.rounds) - min(self.rounds)) / self.median

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "meets target" if self.median <= self.target else "MISSES target"

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "median": self.median,
            "spread": self.spread,
            "verdict": self.verdict,
            "detail_medians": {k: statistics.median(v) for k, v in self.detail.items()},
        }


def _progress(total: int, label: str):
    try:
        from tqdm import tqdm
    except ImportError:  # a plain counter on stderr

        class _Plain:
            def __init__(self) -> None:
                self.n = 0

            def update(self, k: int = 1) -> None:
                self.n += k
                print(f"\r{label}: {self.n}/{total}", end="", file=sys.stderr, flush=True)

            def close(self) -> None:
                print(file=sys.stderr)

        return _Plain()
    return tqdm(total=total, desc=label, file=sys.stderr, leave=False)


# -- finalize_onboarding vs its floor ----------------------------------------------------------


def _in_parallel(jobs: list[Callable[[], None]]) -> float:
    barrier = threading.Barrier(len(jobs) + 1)
    errors: list[BaseException] = []

    def run(job):
        barrier.wait()
        try:
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


class RpcCaller:
    """Calls ``public.<function>`` over one connection the way PostgREST does, with the
    call's SQL built once (PostgREST's schema cache), so a call costs one request."""

    def __init__(self, conn: psycopg.Connection, function: str, arg_names: list[str]) -> None:
        self.conn = conn
        types = argument_types(conn, function)
        self.query, _ = rpc_query(function, dict.fromkeys(arg_names), types)

    def __call__(self, user: str, role: str = "authenticated", **args: object) -> object:
        with request(self.conn, role, user_id=user):
            return self.conn.execute(self.query, [json.dumps(args, default=str)]).fetchone()[0]


#: A round of a write figure is run as this many slices, each side's slice right after the
#: other's (the order alternating): on a shared machine the load drifts over seconds, and
#: finely interleaved slices put the same drift on both sides of the ratio.
SLICES = 5

Jobs = Callable[[int, int, int], list[Callable[[], None]]]  # (round, slice, slices) -> jobs


def versus_floor(figure: Figure, rounds: int, rpc_jobs: Jobs, floor_jobs: Jobs, calls_per_round: int) -> Figure:
    """Per round, the RPC's and the floor's clients run in parallel, slice by slice, the two
    sides alternating; the round's ratio is the RPC's total time over the floor's."""
    figure.detail = {"rpc calls/s": [], "floor calls/s": []}
    for r in range(rounds):
        seconds = {"rpc": 0.0, "floor": 0.0}
        for k in range(SLICES):
            sides = [("rpc", rpc_jobs), ("floor", floor_jobs)]
            for side, jobs in sides if (r + k) % 2 == 0 else reversed(sides):
                seconds[side] += _in_parallel(jobs(r, k, SLICES))
        figure.detail["rpc calls/s"].append(calls_per_round / seconds["rpc"])
        figure.detail["floor calls/s"].append(calls_per_round / seconds["floor"])
        figure.rounds.append(seconds["rpc"] / seconds["floor"])
    return figure


def _connections(url: str, clients: int, user: str | None = None) -> list[psycopg.Connection]:
    return [psycopg.connect(url, user=user, autocommit=True) for _ in range(clients)]


def bench_onboarding(url: str, rounds: int, clients: int, calls: int, progress) -> Figure:
    """A fresh user per call (an auth.users row made beforehand), 8 clients at once."""
    figure = Figure("finalize_onboarding cost vs plain-SQL floor", "x", target=WRITE_TARGET)
    per_round = clients * calls
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "insert into auth.users (id) select md5('coachdb-bench-onboard-' || i)::uuid from generate_series(1, %s) i",
            [2 * rounds * per_round],
        )
    ids = [md5_uuid(f"coachdb-bench-onboard-{i}") for i in range(1, 2 * rounds * per_round + 1)]
    conns, owners = _connections(url, clients, "authenticator"), _connections(url, clients)
    callers = [RpcCaller(c, "finalize_onboarding", ["idempotency_key", "profile", "plan"]) for c in conns]

    def users(r: int, side: int, client: int) -> list[str]:
        start = ((2 * r + side) * clients + client) * calls
        return ids[start : start + calls]

    def rpc_jobs(r: int, k: int, slices: int) -> list[Callable[[], None]]:
        def job(caller: RpcCaller, batch: list[str]) -> Callable[[], None]:
            def run() -> None:
                for user in batch:
                    caller(user, idempotency_key="bench", profile=PROFILE, plan=PLAN)
                    progress.update()

            return run

        return [job(caller, users(r, 0, i)[k::slices]) for i, caller in enumerate(callers)]

    def floor_jobs(r: int, k: int, slices: int) -> list[Callable[[], None]]:
        def job(conn: psycopg.Connection, batch: list[str]) -> Callable[[], None]:
            def run() -> None:
                for user in batch:
                    with conn.transaction():
                        params = {"u": user, "p": uuid.uuid4()}
                        for statement in FLOOR:
                            conn.execute(statement, params)
                    progress.update()

            return run

        return [job(conn, users(r, 1, i)[k::slices]) for i, conn in enumerate(owners)]

    try:
        return versus_floor(figure, rounds, rpc_jobs, floor_jobs, per_round)
    finally:
        for c in conns + owners:
            c.close()


POST_MESSAGE_FLOOR = [
    """insert into public.messages (user_id, conversation_id, role, content, client_message_id)
    values (%(u)s, %(c)s, 'user', %(content)s, %(m)s) returning id, created_at""",
    "update public.conversations set last_message_at = now() where user_id = %(u)s and id = %(c)s",
]

COMPLETE_WORKOUT_FLOOR = """update public.workouts
    set status = 'completed', result = %(r)s::jsonb, completed_at = now()
    where user_id = %(u)s and id = %(w)s and status = 'scheduled' returning completed_at"""

RESULT = {"duration_min": 42, "rpe": 6}


def _client_users(users: int, clients: int) -> list[list[int]]:
    """Bench user numbers split between the clients, disjoint (no two clients share a user,
    as two devices of one user rarely write at the same instant)."""
    return [list(range(1 + i, users + 1, clients)) for i in range(clients)]


def bench_post_message(url: str, users: int, rounds: int, clients: int, calls: int, progress) -> Figure:
    """A new message (a fresh client_message_id) in the user's first conversation."""
    figure = Figure("post_message cost vs plain-SQL floor", "x", target=WRITE_TARGET)
    conns, owners = _connections(url, clients, "authenticator"), _connections(url, clients)
    callers = [RpcCaller(c, "post_message", ["conversation_id", "client_message_id", "content"]) for c in conns]
    numbers = _client_users(users, clients)
    content = "How should I pace the long run this week?"

    def batch(client: int, r: int, side: int) -> list[int]:
        mine = numbers[client]
        return [mine[(((2 * r + side) * calls) + k) % len(mine)] for k in range(calls)]

    def rpc_jobs(r: int, k: int, slices: int) -> list[Callable[[], None]]:
        def job(caller: RpcCaller, batch_: list[int]) -> Callable[[], None]:
            def run() -> None:
                for n in batch_:
                    caller(
                        bench_user(n),
                        conversation_id=bench_conversation(n),
                        client_message_id=str(uuid.uuid4()),
                        content=content,
                    )
                    progress.update()

            return run

        return [job(caller, batch(i, r, 0)[k::slices]) for i, caller in enumerate(callers)]

    def floor_jobs(r: int, k: int, slices: int) -> list[Callable[[], None]]:
        def job(conn: psycopg.Connection, batch_: list[int]) -> Callable[[], None]:
            def run() -> None:
                for n in batch_:
                    params = {"u": bench_user(n), "c": bench_conversation(n), "m": uuid.uuid4(), "content": content}
                    with conn.transaction():
                        for statement in POST_MESSAGE_FLOOR:
                            conn.execute(statement, params)
                    progress.update()

            return run

        return [job(conn, batch(i, r, 1)[k::slices]) for i, conn in enumerate(owners)]

    try:
        return versus_floor(figure, rounds, rpc_jobs, floor_jobs, clients * calls)
    finally:
        for c in conns + owners:
            c.close()


def _scheduled_workouts(url: str, users: int, clients: int, needed: int) -> list[list[tuple[str, str]]]:
    """Per client, ``needed`` (user, workout) pairs of scheduled workouts of active plans,
    spread over that client's users."""
    query = f"""
        with numbered as (
            select u, w.id, row_number() over (partition by u %% %(clients)s order by w.scheduled_on, u) as k
            from generate_series(1, %(users)s) as u
            join public.workouts as w
                on w.user_id = {user_id_sql("u")}
                and w.plan_id = md5('coachdb-bench-plan-' || u || '-2')::uuid
            where w.status = 'scheduled'
        )
        select u %% %(clients)s, {user_id_sql("u")}::text, id::text from numbered where k <= %(needed)s
    """
    per_client: list[list[tuple[str, str]]] = [[] for _ in range(clients)]
    with psycopg.connect(url, autocommit=True) as conn:
        for client, user, workout in conn.execute(query, {"clients": clients, "users": users, "needed": needed}):
            per_client[client].append((user, workout))
    if any(len(pairs) < needed for pairs in per_client):
        raise HarnessError(f"the dataset has too few scheduled workouts for {clients} clients x {needed} calls")
    return per_client


def bench_complete_workout(url: str, users: int, rounds: int, clients: int, calls: int, progress) -> Figure:
    """A scheduled workout of the user's active plan completed, a different one per call."""
    figure = Figure("complete_workout cost vs plain-SQL floor", "x", target=WRITE_TARGET)
    pairs = _scheduled_workouts(url, users, clients, 2 * rounds * calls)
    conns, owners = _connections(url, clients, "authenticator"), _connections(url, clients)
    callers = [RpcCaller(c, "complete_workout", ["workout_id", "result"]) for c in conns]

    def batch(client: int, r: int, side: int) -> list[tuple[str, str]]:
        start = (2 * r + side) * calls
        return pairs[client][start : start + calls]

    def rpc_jobs(r: int, k: int, slices: int) -> list[Callable[[], None]]:
        def job(caller: RpcCaller, batch_: list[tuple[str, str]]) -> Callable[[], None]:
            def run() -> None:
                for user, workout in batch_:
                    caller(user, workout_id=workout, result=RESULT)
                    progress.update()

            return run

        return [job(caller, batch(i, r, 0)[k::slices]) for i, caller in enumerate(callers)]

    def floor_jobs(r: int, k: int, slices: int) -> list[Callable[[], None]]:
        def job(conn: psycopg.Connection, batch_: list[tuple[str, str]]) -> Callable[[], None]:
            def run() -> None:
                for user, workout in batch_:
                    with conn.transaction():
                        conn.execute(COMPLETE_WORKOUT_FLOOR, {"u": user, "w": workout, "r": json.dumps(RESULT)})
                    progress.update()

            return run

        return [job(conn, batch(i, r, 1)[k::slices]) for i, conn in enumerate(owners)]

    try:
        return versus_floor(figure, rounds, rpc_jobs, floor_jobs, clients * calls)
    finally:
        for c in conns + owners:
            c.close()


# -- owner-scoped reads under RLS vs as the owner -----------------------------------------------


def _time(conn: psycopg.Connection, query: str, params: dict) -> float:
    started = time.perf_counter()
    conn.execute(query, params).fetchall()
    return time.perf_counter() - started


def bench_reads(url: str, users: int, rounds: int, samples: int, progress) -> list[Figure]:
    figures = {name: Figure(f"{name}: RLS vs owner", "x", target=1.2) for name in READS}
    for f in figures.values():
        f.detail = {"rls ms": [], "owner ms": []}
    rls = psycopg.connect(url, user="authenticator", autocommit=True)
    owner = psycopg.connect(url, autocommit=True)
    rng = random.Random(7)
    try:
        for _ in range(rounds):
            for name, (rls_query, owner_query) in READS.items():
                rls_times, owner_times = [], []
                for _ in range(samples):
                    n = rng.randint(1, users)
                    user = bench_user(n)
                    params = {"u": user, "c": bench_conversation(n)}

                    def under_rls(params=params, user=user, rls_query=rls_query, rls_times=rls_times):
                        with rls.transaction():
                            set_request_context(rls, "authenticated", {"sub": user, "role": "authenticated"})
                            rls_times.append(_time(rls, rls_query, params))

                    def as_owner(params=params, owner_query=owner_query, owner_times=owner_times, user=user):
                        # the same request shape (claims published first), only no role switch
                        with owner.transaction():
                            owner.execute(
                                "select set_config('request.jwt.claims', %s, true)",
                                [json.dumps({"sub": user, "role": "authenticated"})],
                            )
                            owner_times.append(_time(owner, owner_query, params))

                    # whichever runs second finds the user's pages warm: alternate the order
                    for side in (under_rls, as_owner) if rng.random() < 0.5 else (as_owner, under_rls):
                        side()
                    progress.update()
                rls_ms, owner_ms = statistics.median(rls_times) * 1000, statistics.median(owner_times) * 1000
                figures[name].detail["rls ms"].append(rls_ms)
                figures[name].detail["owner ms"].append(owner_ms)
                figures[name].rounds.append(rls_ms / owner_ms)
    finally:
        rls.close()
        owner.close()
    return list(figures.values())


# -- get_chat_context: large vs small ----------------------------------------------------------


def bench_chat_context(
    large: str, large_users: int, small: str, small_users: int, rounds: int, samples: int, progress
) -> Figure:
    """Per round, ``samples`` calls on each dataset, alternating call by call (so that load
    from elsewhere lands on both sides alike); the ratio of the medians."""
    figure = Figure("get_chat_context at full scale vs at 1k messages", "x", target=2.0)
    figure.detail = {"large ms": [], "small ms": []}
    rng = random.Random(11)
    conns = {"large": psycopg.connect(large, user="authenticator", autocommit=True)}
    conns["small"] = psycopg.connect(small, user="authenticator", autocommit=True)
    users = {"large": large_users, "small": small_users}
    try:
        calls = {
            side: RpcCaller(conn, "get_chat_context", ["conversation_id", "message_limit"])
            for side, conn in conns.items()
        }
        for _ in range(rounds):
            times: dict[str, list[float]] = {"large": [], "small": []}
            for i in range(2 * samples):
                side = ("large", "small")[(i + i // 2) % 2]  # large, small, small, large, ...
                n = rng.randint(1, users[side])
                started = time.perf_counter()
                calls[side](bench_user(n), conversation_id=bench_conversation(n, rng.randint(1, 2)), message_limit=20)
                times[side].append(time.perf_counter() - started)
                progress.update()
            large_ms, small_ms = (statistics.median(times[side]) * 1000 for side in ("large", "small"))
            figure.detail["small ms"].append(small_ms)
            figure.detail["large ms"].append(large_ms)
            figure.rounds.append(large_ms / small_ms)
    finally:
        for conn in conns.values():
            conn.close()
    return figure


# -- clone and up -------------------------------------------------------------------------------


def bench_clone(factory: DatabaseFactory, rounds: int, samples: int, progress) -> Figure:
    figure = Figure("fresh per-test database (template clone)", "ms")
    for _ in range(rounds):
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            url = factory.clone()
            times.append(time.perf_counter() - started)
            factory.drop(url)
            progress.update()
        figure.rounds.append(statistics.median(times) * 1000)
    return figure


def bench_up(rounds: int, progress, provider: str = "embedded") -> Figure:
    from harness.providers._binaries import temporary_parent

    figure = Figure("coachdb up, cold (initdb, start, schema, demo data)", "s")
    for _ in range(rounds):
        parent = temporary_parent()
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                *("-m", "harness.cli", "up", "--provider", provider),
                *("--data-dir", str(parent / "data"), "--port", str(port)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = False
        try:
            for line in proc.stdout:
                if line.startswith("Press Ctrl-C"):
                    figure.rounds.append(time.perf_counter() - started)
                    ready = True
                    break
        finally:
            # `up` installs its Ctrl-C handler just after that line; a SIGINT sent at once
            # can land before it, and where SIGINT is inherited as ignored (a job started in
            # the background by a non-interactive shell, as CI runs) it is lost.
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            try:
                _, errors = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:  # stop what it left running, then say so
                proc.kill()
                proc.communicate()
                get_provider(provider, data_dir=parent / "data", port=port).cluster.stop("immediate")
                shutil.rmtree(parent, ignore_errors=True)
                raise HarnessError(f"coachdb up --provider {provider} did not stop within 60 s of Ctrl-C") from None
            shutil.rmtree(parent, ignore_errors=True)
        if not ready:  # a lost round would shift the median silently: say why instead
            raise HarnessError(f"coachdb up never became ready (exit {proc.returncode}): {errors.strip()[-2000:]}")
        progress.update()
    return figure


# -- the whole run ------------------------------------------------------------------------------


@dataclass
class Settings:
    scale: Scale
    rounds: int = 5
    clients: int = 8
    calls_per_client: int = 100
    read_samples: int = 1000
    chat_samples: int = 500
    provider: str = "embedded"
    #: Cold starts of `coachdb up` to time (an absolute figure, no target). 0 in --quick,
    #: which runs inside the suite: a fourth server started and stopped per pass added
    #: seconds, and once, under a load of 7 on 2 cores, a shutdown that outlasted 60 s.
    up_rounds: int = 3


QUICK = Settings(
    Scale(500, 50_000, 50_000), rounds=3, calls_per_client=10, read_samples=200, chat_samples=60, up_rounds=0
)
FULL = Settings(Scale())


@contextmanager
def _server(name: str) -> Iterator[tuple[Provider, DatabaseFactory]]:
    provider = get_provider(name)
    provider.start()
    try:
        factory = DatabaseFactory(provider)
        factory.build_template()
        yield provider, factory
    finally:
        provider.stop()


#: The settings that decide what these figures mean, recorded with them.
SETTINGS_QUERY = """
select 'version', version()
union all select 'jit_available', pg_jit_available()::text
union all select name, setting || coalesce(' ' || unit, '') from pg_settings
where name in ('jit', 'jit_above_cost', 'fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers',
    'max_connections', 'work_mem')
"""


def server_settings(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return dict(conn.execute(SETTINGS_QUERY).fetchall())


def run_matrix(settings: Settings, providers: list[str], log: Callable[[str], None] = print) -> list[dict]:
    """The whole bench on each server in turn (one at a time: they share the machine)."""
    return [run(dataclasses.replace(settings, provider=name), log) for name in providers]


def run(settings: Settings, log: Callable[[str], None] = print) -> dict:
    results: dict = {"settings": {**asdict(settings), "scale": asdict(settings.scale)}, "figures": [], "phases": {}}
    with _server(settings.provider) as (provider, factory):
        results["server"] = provider.describe()
        results["server_settings"] = server_settings(provider.url)
        bar = _progress(settings.rounds * 10, "clone")
        clone_figure = bench_clone(factory, settings.rounds, 10, bar)  # first: on a quiet server
        bar.close()
        large = factory.clone("coachdb_bench_large")
        bar = _progress(8, "generating")
        started = time.perf_counter()
        results["generation"] = generate(large, settings.scale, progress=lambda _: bar.update())
        bar.close()
        log(
            f"generated {settings.scale.users} users, {settings.scale.workouts} workouts, "
            f"{settings.scale.messages} messages in {time.perf_counter() - started:.1f}s"
        )
        small_scale = Scale(10, 1_000, 1_000)
        small = factory.clone("coachdb_bench_small")
        generate(small, small_scale)
        onboarding = factory.clone("coachdb_bench_onboarding")

        figures: list[Figure] = []
        bar = _progress(2 * settings.rounds * settings.clients * settings.calls_per_client, "finalize_onboarding")
        figures.append(bench_onboarding(onboarding, settings.rounds, settings.clients, settings.calls_per_client, bar))
        bar.close()
        bar = _progress(settings.rounds * len(READS) * settings.read_samples, "rls reads")
        figures += bench_reads(large, settings.scale.users, settings.rounds, settings.read_samples, bar)
        bar.close()
        bar = _progress(2 * settings.rounds * settings.chat_samples, "get_chat_context")
        figures.append(
            bench_chat_context(
                large, settings.scale.users, small, small_scale.users, settings.rounds, settings.chat_samples, bar
            )
        )
        bar.close()
        # the writes last: they add messages and complete workouts in the large dataset
        writes = 2 * settings.rounds * settings.clients * settings.calls_per_client
        for label, bench_write in (("post_message", bench_post_message), ("complete_workout", bench_complete_workout)):
            bar = _progress(writes, label)
            figures.append(
                bench_write(
                    large, settings.scale.users, settings.rounds, settings.clients, settings.calls_per_client, bar
                )
            )
            bar.close()
        figures.append(clone_figure)
    if settings.up_rounds:
        bar = _progress(settings.up_rounds, "coachdb up")
        figures.append(bench_up(settings.up_rounds, bar, settings.provider))
        bar.close()
    results["figures"] = [f.as_dict() for f in figures]
    return results


def render_table(results: dict) -> str:
    lines = [
        f"coachdb bench on {results['server']}, {results['settings']['scale']['users']} users, "
        f"{results['settings']['scale']['workouts']} workouts, {results['settings']['scale']['messages']} messages"
    ]
    lines.append(f"{'measure':<52} {'median':>9} {'spread':>7} {'target':>7}  verdict / absolute medians")
    warnings = []
    for f in results["figures"]:
        target = f"<={f['target']}" if f["target"] is not None else ""
        absolute = ", ".join(f"{k} {v:.2f}" for k, v in f["detail_medians"].items())
        lines.append(
            f"{f['name']:<52} {f['median']:>8.2f}{f['unit']} {f['spread']:>6.0%} {target:>7}  "
            f"{f['verdict']}{'; ' if f['verdict'] and absolute else ''}{absolute}"
        )
        if f["spread"] > SPREAD_WARNING:
            warnings.append(f"warning: {f['name']}: spread {f['spread']:.0%} across rounds is too wide to trust")
    config = results.get("server_settings", {})
    if config:
        lines.append(
            "server settings: "
            + ", ".join(f"{k} {config[k]}" for k in ("jit", "jit_available", "jit_above_cost", "fsync") if k in config)
        )
    gen = results["generation"]
    lines.append(
        f"data generation: {gen['total']:.1f}s (workouts {gen['workouts']:.1f}s, messages {gen['messages']:.1f}s)"
    )
    return "\n".join(lines + warnings)


def render_matrix(all_results: list[dict]) -> str:
    """One line per measure, one column per server: median (spread), as in the README."""
    servers = [r["server"] for r in all_results]
    names = [f["name"] for f in all_results[0]["figures"]]
    width = max(len(n) for n in names)
    lines = [f"{'measure':<{width}} {'target':>7}  " + "  ".join(f"{s:>22}" for s in servers)]
    for name in names:
        cells, target = [], ""
        for results in all_results:
            figure = next((f for f in results["figures"] if f["name"] == name), None)
            if figure is None:
                cells.append(f"{'-':>22}")
                continue
            target = f"<={figure['target']}" if figure["target"] is not None else ""
            mark = "" if not figure["verdict"] else (" ok" if figure["verdict"] == "meets target" else " MISS")
            cells.append(f"{figure['median']:>9.2f}{figure['unit']:<2} ({figure['spread']:>4.0%}){mark:<5}")
        lines.append(f"{name:<{width}} {target:>7}  " + "  ".join(cells))
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = [f for f in results["figures"] if f["target"] is not None]
    fig, ax = plt.subplots(figsize=(9, 4))
    names = [
        f["name"]
        .split(":")[0]
        .replace(" cost vs plain-SQL floor", "")
        .replace(" at full scale vs at 1k messages", " scale")
        for f in ratios
    ]
    medians = [f["median"] for f in ratios]
    errors = [[f["median"] - min(f["rounds"]) for f in ratios], [max(f["rounds"]) - f["median"] for f in ratios]]
    ax.bar(
        names,
        medians,
        yerr=errors,
        capsize=4,
        color=["tab:green" if f["verdict"] == "meets target" else "tab:red" for f in ratios],
    )
    ax.scatter(names, [f["target"] for f in ratios], marker="_", s=900, color="black", label="target", zorder=3)
    ax.set_ylabel("ratio (lower is better)")
    ax.set_title(f"coachdb bench: {results['server']}, {results['settings']['scale']['users']} users")
    ax.legend()
    plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_json(results: dict, path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, default=str))
