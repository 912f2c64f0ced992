"""A bench dataset, made with set-based SQL (generate_series), not row by row.

Per user: an auth.users row, a profile, two plans (an archived one in the past and an
active one around today), workouts split between them (one a day), two conversations with
messages split between them, and the idempotency key of their onboarding. Ids are derived
from the user's number (md5), so every run makes the same data.

Foreign-key triggers are skipped while loading (session_replication_role = replica) where
the role may do so: the rows are consistent by construction, and checking a million
references one by one would be most of the cost. Then everything is analyzed.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Scale:
    users: int = 10_000
    workouts: int = 1_000_000
    messages: int = 1_000_000

    @property
    def workouts_per_plan(self) -> int:
        return max(1, self.workouts // self.users // 2)

    @property
    def messages_per_conversation(self) -> int:
        return max(1, self.messages // self.users // 2)


def user_id_sql(expr: str) -> str:
    return f"md5('coachdb-bench-user-' || {expr})::uuid"


STEPS = [
    (
        "users",
        """insert into auth.users (id, aud, role, email)
        select {uid}, 'authenticated', 'authenticated', 'bench' || u || '@example.test'
        from generate_series(1, %(users)s) as u""",
    ),
    (
        "profiles",
        """insert into public.profiles (auth_user_id, display_name, goal, days_per_week, timezone, onboarded_at)
        select {uid}, 'Bench user ' || u,
            (enum_range(null::public.fitness_goal))[1 + u %% 5], 1 + u %% 7,
            (array['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo'])[1 + u %% 4], now()
        from generate_series(1, %(users)s) as u""",
    ),
    (
        "plans",
        """insert into public.plans (id, user_id, name, goal, status, starts_on, weeks, activated_at, archived_at)
        select md5('coachdb-bench-plan-' || u || '-' || p)::uuid, {uid}, 'Plan ' || p, 'endurance',
            case when p = 1 then 'archived' else 'active' end::public.plan_status,
            case when p = 1 then current_date - 40 - %(per_plan)s else current_date - 21 end,
            least(52, greatest(1, (%(per_plan)s + 6) / 7 + 1)), now(),
            case when p = 1 then now() end
        from generate_series(1, %(users)s) as u, generate_series(1, 2) as p""",
    ),
    (
        "workouts",
        """insert into public.workouts (user_id, plan_id, scheduled_on, kind, title, targets)
        select {uid}, md5('coachdb-bench-plan-' || u || '-' || p)::uuid,
            case when p = 1 then current_date - 40 - %(per_plan)s else current_date - 21 end + d,
            (enum_range(null::public.workout_kind))[1 + (u + d) %% 5], 'Session ' || d,
            jsonb_build_object('duration_min', 30 + d %% 30)
        from generate_series(1, %(users)s) as u, generate_series(1, 2) as p,
            generate_series(0, %(per_plan)s - 1) as d""",
    ),
    (
        "conversations",
        """insert into public.conversations (id, user_id, plan_id, title, last_message_at)
        select md5('coachdb-bench-conversation-' || u || '-' || c)::uuid, {uid},
            md5('coachdb-bench-plan-' || u || '-2')::uuid, 'Thread ' || c, now()
        from generate_series(1, %(users)s) as u, generate_series(1, 2) as c""",
    ),
    (
        "messages",
        """insert into public.messages (user_id, conversation_id, role, content, client_message_id, created_at)
        select {uid}, md5('coachdb-bench-conversation-' || u || '-' || c)::uuid,
            case when m %% 2 = 0 then 'user' else 'assistant' end::public.message_role,
            'Message ' || m || ' about training',
            case when m %% 2 = 0 then md5('coachdb-bench-message-' || u || '-' || c || '-' || m)::uuid end,
            now() - make_interval(mins => %(per_conversation)s - m)
        from generate_series(1, %(users)s) as u, generate_series(1, 2) as c,
            generate_series(1, %(per_conversation)s) as m""",
    ),
    (
        "idempotency_keys",
        """insert into public.idempotency_keys (user_id, operation, key, request_hash, response)
        select {uid}, 'finalize_onboarding', 'bench', md5(u::text), '{{}}'::jsonb
        from generate_series(1, %(users)s) as u""",
    ),
]


def generate(url: str, scale: Scale, progress=None) -> dict[str, float]:
    """Load the dataset; returns seconds per step (plus "total" and "analyze")."""
    params = {
        "users": scale.users,
        "per_plan": scale.workouts_per_plan,
        "per_conversation": scale.messages_per_conversation,
    }
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
        with conn.transaction():
            conn.execute("set local synchronous_commit = off")
            conn.execute("set local maintenance_work_mem = '256MB'")
            if superuser:
                conn.execute("set local session_replication_role = replica")
            for name, query in STEPS:
                t = time.perf_counter()
                conn.execute(query.format(uid=user_id_sql("u")), params)
                timings[name] = time.perf_counter() - t
                if progress:
                    progress(name)
        t = time.perf_counter()
        conn.execute("analyze")
        timings["analyze"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    return timings


def md5_uuid(text: str) -> str:
    """``md5(text)::uuid`` computed in Python: the generator's way of naming rows."""
    return str(uuid.UUID(hashlib.md5(text.encode()).hexdigest()))


def bench_user(n: int) -> str:
    """The id of bench user number ``n`` (1-based), as the generator makes it."""
    return md5_uuid(f"coachdb-bench-user-{n}")


def bench_conversation(n: int, c: int = 1) -> str:
    """The id of conversation ``c`` (1 or 2) of bench user number ``n``."""
    return md5_uuid(f"coachdb-bench-conversation-{n}-{c}")
