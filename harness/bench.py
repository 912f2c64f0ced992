"""``coachdb bench``: the hot paths measured as ratios against their floors, in one run.

Every figure is a ratio of two things measured side by side on the same machine in the same
run, repeated over rounds (interleaved, so drift hits both sides); the report gives each
ratio's median and spread and warns when the spread is too wide to trust. Absolute numbers
are printed for orientation only.

    finalize_onboarding   8 concurrent pgbench clients, calls/s of the RPC (request context,
                          RLS, validation, idempotency) vs a hand-written floor inserting the
                          same rows with plain SQL in one transaction per call. target <= 1.5x
    post_message,         likewise, 8 clients on the full dataset: the RPC vs the plain insert
    complete_workout      (+ conversation update) / the plain update.       target <= 1.5x
    rls reads             a week of workouts, the last 20 messages, the profile: as
                          `authenticated` under RLS vs the table owner with the owner filter
                          written out, at the full scale.                     target <= 1.2x
    get_chat_context      at the full scale vs at 1,000 messages.           target <= 2x
    clone, up             a fresh per-test database, and `coachdb up` from nothing (absolute)

The RPC side calls as PostgREST does, with its schema cache: the call's SQL is built once
per function (``rpc_query``), and each call is one request (role and claims set
transaction-locally, then the call). The write figures are driven by pgbench
(``harness.pgbench``: a client in C, as PostgREST is compiled; eight Python threads were
the bottleneck themselves), the two sides' order alternating round by round; reads
alternate call by call, get_chat_context large and small call by call.
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
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from harness.context import argument_types, claims_for, request, request_context_query, rpc_query, set_request_context
from harness.databases import DatabaseFactory
from harness.errors import HarnessError
from harness.generate import Scale, bench_conversation, bench_user, generate, user_id_sql
from harness.pgbench import binary as pgbench_binary
from harness.pgbench import run as run_pgbench
from harness.providers import Provider, get_provider
from harness.providers._binaries import BinariesProvider
from harness.providers.local import free_port

SPREAD_WARNING = 0.25  # (max - min) / median of a ratio across rounds
WRITE_TARGET = 1.5  # an RPC's cost over its plain-SQL floor, 8 clients

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


# -- PostgREST's call over one connection (the reads and get_chat_context) -----------------


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


# -- writes: each RPC vs its plain-SQL floor, driven by pgbench ---------------------------------

#: Transactions each new pgbench connection makes before its calls count: the first calls of a
#: connection compile every plpgsql function it reaches and plan each statement custom five
#: times (PostgreSQL's plan cache), costs PostgREST's pooled connections paid long ago.
WARMUP = 6

#: Every transaction of a pgbench script takes the next call of its client: call ``n`` is row
#: ``n`` of the figure's calls table, and a run's clients take disjoint blocks of rows from
#: ``base`` on, so no call is made twice and no two clients share a row.
NEXT_CALL = "\\set k :k + 1\n\\set n :base + :client_id * :per + :k\n"

#: The claims of every bench call (``sub`` replaced by the call's user), as Supabase Auth
#: puts them in a JWT.
CLAIMS = claims_for(uuid.UUID(int=0))

PROFILE = {"display_name": "Bench", "goal": "endurance", "days_per_week": 3, "timezone": "Europe/Paris"}
PLAN = {"weeks": 4, "starts_on": "2030-01-07"}
RESULT = {"duration_min": 42, "rpe": 6}
CONTENT = "How should I pace the long run this week?"


@dataclass(frozen=True)
class Write:
    """One write figure: the RPC with the arguments a client sends, the calls it is given
    (a query returning ``user_id``, ``body`` and what the floor needs, one row per call, in
    the order they are made), and the floor: plain SQL writing the same rows as the table
    owner, no function, no RLS, no idempotency."""

    rpc: str
    args: tuple[str, ...]
    calls: str
    floor: tuple[str, ...]
    setup: str = ""  # run once the calls exist (the onboarding's users)


WRITES = {
    "finalize_onboarding": Write(
        rpc="finalize_onboarding",
        args=("idempotency_key", "profile", "plan"),
        calls="""select n, md5('coachdb-bench-onboard-' || n)::uuid as user_id, gen_random_uuid() as plan_id,
            json_build_object('idempotency_key', 'bench', 'profile', %(profile)s::json, 'plan', %(plan)s::json) as body
        from generate_series(1, %(calls)s) as n""",
        setup="insert into auth.users (id) select user_id from coachdb_bench.finalize_onboarding",
        floor=(
            """insert into public.profiles as p
                (auth_user_id, display_name, goal, days_per_week, timezone, onboarded_at)
            select c.user_id, 'Bench', 'endurance', 3, 'Europe/Paris', now()
            from coachdb_bench.finalize_onboarding as c where c.n = :n
            on conflict (auth_user_id) do update set display_name = excluded.display_name;""",
            """update public.plans as pl set status = 'archived', archived_at = now()
            from coachdb_bench.finalize_onboarding as c
            where c.n = :n and pl.user_id = c.user_id and pl.status = 'active';""",
            """insert into public.plans (id, user_id, name, goal, status, starts_on, weeks, activated_at)
            select c.plan_id, c.user_id, 'Endurance plan', 'endurance', 'active', '2030-01-07', 4, now()
            from coachdb_bench.finalize_onboarding as c where c.n = :n;""",
            """insert into public.workouts (user_id, plan_id, scheduled_on, kind, title, targets)
            select c.user_id, c.plan_id, date '2030-01-07' + w * 7 + s * 7 / 3, 'run', 'Run, week ' || w + 1,
                jsonb_build_object('duration_min', 30 + 5 * w, 'intensity', 'moderate')
            from coachdb_bench.finalize_onboarding as c, generate_series(0, 3) as w, generate_series(0, 2) as s
            where c.n = :n;""",
        ),
    ),
    "post_message": Write(
        rpc="post_message",
        args=("conversation_id", "client_message_id", "content"),
        # a client's block of calls is a block of users (calls wrap around the users)
        calls=f"""select n, user_id, conversation_id, message_id,
            json_build_object('conversation_id', conversation_id, 'client_message_id', message_id,
                'content', %(content)s::text) as body
        from generate_series(1, %(calls)s) as n,
            lateral (select 1 + (n - 1) %% %(users)s as u) as user_number,
            lateral (select {user_id_sql("u")} as user_id,
                md5('coachdb-bench-conversation-' || u || '-1')::uuid as conversation_id,
                gen_random_uuid() as message_id) as ids""",
        floor=(
            """insert into public.messages (user_id, conversation_id, role, content, client_message_id)
            select c.user_id, c.conversation_id, 'user', c.body ->> 'content', c.message_id
            from coachdb_bench.post_message as c where c.n = :n
            returning id, created_at;""",
            """update public.conversations as v set last_message_at = now()
            from coachdb_bench.post_message as c
            where c.n = :n and v.user_id = c.user_id and v.id = c.conversation_id;""",
        ),
    ),
    "complete_workout": Write(
        rpc="complete_workout",
        args=("workout_id", "result"),
        # scheduled workouts of active plans, in random order: a different one per call
        calls="""select (row_number() over ())::int as n, user_id, workout_id,
            json_build_object('workout_id', workout_id, 'result', %(result)s::json) as body
        from (
            select w.user_id, w.id as workout_id
            from public.workouts as w
            join public.plans as pl on pl.user_id = w.user_id and pl.id = w.plan_id and pl.status = 'active'
            where w.status = 'scheduled'
            order by random()
            limit %(calls)s
        ) as scheduled""",
        floor=(
            """update public.workouts as w
            set status = 'completed', result = (c.body -> 'result')::jsonb, completed_at = now()
            from coachdb_bench.complete_workout as c
            where c.n = :n and w.user_id = c.user_id and w.id = c.workout_id and w.status = 'scheduled'
            returning w.completed_at;""",
        ),
    ),
}


def _prepare_calls(url: str, name: str, write: Write, calls: int, users: int) -> None:
    """The figure's calls as a table the scripts read (``coachdb_bench.<name>``), readable by
    the API roles, since the RPC's statements run as ``authenticated``."""
    params = {
        "calls": calls,
        "users": users,
        "profile": json.dumps(PROFILE),
        "plan": json.dumps(PLAN),
        "result": json.dumps(RESULT),
        "content": CONTENT,
        "claims": json.dumps(CLAIMS),
    }
    table = f"coachdb_bench.{name}"
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("create schema if not exists coachdb_bench")
        conn.execute("grant usage on schema coachdb_bench to authenticator, authenticated")
        conn.execute(
            f"""create table {table} as
            select calls.*, jsonb_set(%(claims)s::jsonb, '{{sub}}', to_jsonb(calls.user_id))::text as claims
            from ({write.calls}) as calls""",
            params,
        )
        conn.execute(f"alter table {table} add primary key (n)")
        made = conn.execute(f"select count(*) from {table}").fetchone()[0]
        if made < calls:
            raise HarnessError(f"{name}: the dataset gives {made} calls, the figure needs {calls}")
        conn.execute(f"grant select on {table} to authenticator, authenticated")
        if write.setup:
            conn.execute(write.setup)
        conn.execute(f"analyze {table}")


def _scripts(url: str, name: str, write: Write) -> tuple[str, str]:
    """The RPC's request (begin, request context, PostgREST's call shape, commit) and the
    floor's transaction, as pgbench scripts."""
    with psycopg.connect(url, autocommit=True) as conn:
        call, _ = rpc_query(
            write.rpc,
            dict.fromkeys(write.args),
            argument_types(conn, write.rpc),
            body=sql.SQL(f"(select c.body from coachdb_bench.{name} as c where c.n = :n)"),
        )
        call_sql = call.as_string(conn)
        # the request context as harness.context.set_request_context sends it, from the call's row
        role = sql.Literal(CLAIMS["role"])
        context = sql.SQL("{} from coachdb_bench.{} as c where c.n = :n;").format(
            request_context_query(role, sql.SQL("c.claims"), sql.SQL("c.user_id::text"), role), sql.Identifier(name)
        )
        context_sql = context.as_string(conn)
    rpc = NEXT_CALL + "begin;\n" + context_sql + "\n" + call_sql + ";\ncommit;\n"
    floor = NEXT_CALL + "begin;\n" + "\n".join(write.floor) + "\ncommit;\n"
    return rpc, floor


def bench_write(
    url: str, pgbench: Path, name: str, users: int, rounds: int, clients: int, calls: int, progress
) -> Figure:
    """Per round, ``clients`` pgbench clients make the RPC's requests (as ``authenticator``),
    then the floor's transactions (as the owner), or the other way round in odd rounds;
    ``calls`` each, after WARMUP. The round's ratio is the RPC's mean latency over the
    floor's: with every client always busy, that is the floor's calls/s over the RPC's."""
    write = WRITES[name]
    figure = Figure(f"{name} cost vs plain-SQL floor", "x", target=WRITE_TARGET)
    figure.detail = {"rpc calls/s": [], "floor calls/s": []}
    per_client = WARMUP + calls
    _prepare_calls(url, name, write, 2 * rounds * clients * per_client, users)
    scripts = dict(zip(("rpc", "floor"), _scripts(url, name, write), strict=True))
    conninfo = {"rpc": make_conninfo(url, user="authenticator"), "floor": make_conninfo(url)}
    base = 0
    for r in range(rounds):
        latency = {}
        for side in ("rpc", "floor") if r % 2 == 0 else ("floor", "rpc"):
            variables = {"k": 0, "base": base, "per": per_client}
            latencies = run_pgbench(pgbench, conninfo[side], scripts[side], clients, calls, variables, WARMUP)
            latency[side] = statistics.fmean(latencies)
            base += clients * per_client
            progress.update(clients * calls)
        figure.detail["rpc calls/s"].append(clients / latency["rpc"])
        figure.detail["floor calls/s"].append(clients / latency["floor"])
        figure.rounds.append(latency["rpc"] / latency["floor"])
    return figure


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
    calls_per_client: int = 400  # per round and side: runs of ~1 s, long enough to average out the scheduler
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
        pgbench = pgbench_binary(provider.bin_dir() if isinstance(provider, BinariesProvider) else None)

        rounds, clients, calls = settings.rounds, settings.clients, settings.calls_per_client

        def write_figure(url: str, name: str) -> Figure:
            bar = _progress(2 * rounds * clients * calls, name)
            try:
                return bench_write(url, pgbench, name, settings.scale.users, rounds, clients, calls, bar)
            finally:
                bar.close()

        figures.append(write_figure(onboarding, "finalize_onboarding"))
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
        figures += [write_figure(large, name) for name in ("post_message", "complete_workout")]
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
