"""A stateful test: two or three users onboard, retry with the same and other keys,
activate plans, complete and skip workouts, post messages and read, in any order hypothesis
finds; after every step the database must agree with a small Python model of what should be
true. Invariants: one active plan per user, replays equal first responses, nobody sees
another's rows, export equals the model."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

import psycopg
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from harness.context import Client

KEYS = ["a", "b", "c"]
CLIENT_IDS = [str(uuid.UUID(int=i + 1)) for i in range(3)]
PAYLOADS = [
    ({"display_name": "U", "goal": "strength", "days_per_week": 2}, {"weeks": 1, "starts_on": "2030-01-07"}),
    ({"display_name": "U", "goal": "endurance", "days_per_week": 1}, {"weeks": 2, "starts_on": "2030-01-07"}),
    ({"display_name": "V", "goal": "race_prep", "days_per_week": 3}, {"weeks": 1}),
]
RESULTS = [{}, {"rpe": 5}, {"rpe": 6, "notes": "hard"}]
REASONS = [None, "sick"]
CONTENTS = ["hi", "how far today?"]


@dataclass
class UserModel:
    client: Client
    keys: dict[str, tuple[int, dict]] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    workouts: dict[str, dict] = field(default_factory=dict)
    conversations: set[str] = field(default_factory=set)
    messages: dict[tuple[str, str], tuple[str, dict]] = field(default_factory=dict)


STEPS: Counter[str] = Counter()


def sqlstate_of(call) -> str | None:
    try:
        call()
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def make_machine(make_user, client_factory, admin):
    class CoachModel(RuleBasedStateMachine):
        @initialize(count=st.integers(2, 3))
        def users(self, count):
            self.users = [UserModel(client_factory(make_user())) for _ in range(count)]

        def pick(self, data, pool):
            return data.draw(st.sampled_from(sorted(pool)))

        def others(self, me):
            return [u for u in self.users if u is not me]

        # -- rules --------------------------------------------------------------------------

        @rule(data=st.data(), key=st.sampled_from(KEYS), variant=st.integers(0, len(PAYLOADS) - 1))
        def onboard(self, data, key, variant):
            STEPS["onboard"] += 1
            me = data.draw(st.sampled_from(self.users))
            profile, plan = PAYLOADS[variant]
            if key in me.keys and me.keys[key][0] != variant:
                assert (
                    sqlstate_of(
                        lambda: me.client.rpc("finalize_onboarding", idempotency_key=key, profile=profile, plan=plan)
                    )
                    == "PT409"
                )
                return
            response = me.client.rpc("finalize_onboarding", idempotency_key=key, profile=profile, plan=plan)
            if key in me.keys:
                assert response == {**me.keys[key][1], "replayed": True}
                return
            assert response["replayed"] is False
            me.keys[key] = (variant, response)
            for plan_id, status in me.plans.items():
                if status == "active":
                    me.plans[plan_id] = "archived"
            me.plans[response["plan_id"]] = "active"
            rows = admin.execute(
                "select id::text from public.workouts where plan_id = %s", [response["plan_id"]]
            ).fetchall()
            assert response["workout_count"] == len(rows) > 0
            for (workout_id,) in rows:
                me.workouts[workout_id] = {"plan": response["plan_id"], "status": "scheduled"}

        @rule(data=st.data())
        def activate(self, data):
            STEPS["activate"] += 1
            me = data.draw(st.sampled_from(self.users))
            theirs = [p for u in self.others(me) for p in u.plans]
            if not me.plans and not theirs:
                return
            plan_id = self.pick(data, list(me.plans) + theirs)
            if plan_id not in me.plans:
                assert sqlstate_of(lambda: me.client.rpc("activate_plan", plan_id=plan_id)) == "PT404"
                return
            previous = next((p for p, s in me.plans.items() if s == "active"), None)
            response = me.client.rpc("activate_plan", plan_id=plan_id)
            expected_archived = None if previous == plan_id else previous
            assert response == {"plan_id": plan_id, "archived_plan_id": expected_archived}
            if previous and previous != plan_id:
                me.plans[previous] = "archived"
            me.plans[plan_id] = "active"

        def _workout_change(self, data, rpc, target_status, payload_key, payloads):
            me = data.draw(st.sampled_from(self.users))
            theirs = [w for u in self.others(me) for w in u.workouts]
            if not me.workouts and not theirs:
                return
            workout_id = self.pick(data, list(me.workouts) + theirs)
            payload = data.draw(st.sampled_from(payloads))
            call = lambda: me.client.rpc(rpc, workout_id=workout_id, **{payload_key: payload})  # noqa: E731
            if workout_id not in me.workouts:
                assert sqlstate_of(call) == "PT404"
                return
            workout = me.workouts[workout_id]
            if me.plans[workout["plan"]] != "active":
                assert sqlstate_of(call) == "PT409"
            elif workout["status"] == "scheduled":
                response = call()
                assert (response["status"], response["replayed"]) == (target_status, False)
                workout.update(status=target_status, payload=payload, response=response)
            elif workout["status"] != target_status or workout["payload"] != payload:
                assert sqlstate_of(call) == "PT409"
            else:
                assert call() == {**workout["response"], "replayed": True}

        @rule(data=st.data())
        def complete(self, data):
            STEPS["complete"] += 1
            self._workout_change(data, "complete_workout", "completed", "result", RESULTS)

        @rule(data=st.data())
        def skip(self, data):
            STEPS["skip"] += 1
            self._workout_change(data, "skip_workout", "skipped", "reason", REASONS)

        @rule(data=st.data())
        def start_conversation(self, data):
            STEPS["start_conversation"] += 1
            me = data.draw(st.sampled_from(self.users))
            me.conversations.add(me.client.rpc("start_conversation")["conversation_id"])

        @rule(data=st.data(), client_id=st.sampled_from(CLIENT_IDS), content=st.sampled_from(CONTENTS))
        def post(self, data, client_id, content):
            STEPS["post"] += 1
            me = data.draw(st.sampled_from(self.users))
            theirs = [c for u in self.others(me) for c in u.conversations]
            if not me.conversations and not theirs:
                return
            conversation = self.pick(data, list(me.conversations) + theirs)
            call = lambda: me.client.rpc(  # noqa: E731
                "post_message", conversation_id=conversation, client_message_id=client_id, content=content
            )
            if conversation not in me.conversations:
                assert sqlstate_of(call) == "PT404"
            elif (conversation, client_id) not in me.messages:
                response = call()
                assert response["replayed"] is False
                me.messages[(conversation, client_id)] = (content, response)
            elif me.messages[(conversation, client_id)][0] != content:
                assert sqlstate_of(call) == "PT409"
            else:
                assert call() == {**me.messages[(conversation, client_id)][1], "replayed": True}

        # -- what must hold after every step ----------------------------------------------------

        @invariant()
        def database_agrees_with_the_model(self):
            if not hasattr(self, "users"):
                return
            for me in self.users:
                plans = dict(me.client.execute("select id::text, status::text from public.plans"))
                assert plans == me.plans
                assert list(plans.values()).count("active") <= 1
                workouts = dict(me.client.execute("select id::text, status::text from public.workouts"))
                assert workouts == {w: m["status"] for w, m in me.workouts.items()}
                conversations = {r[0] for r in me.client.execute("select id::text from public.conversations")}
                assert conversations == me.conversations
                owners = me.client.execute(
                    "select distinct user_id from public.messages union select distinct user_id from public.plans"
                )
                assert {r[0] for r in owners} <= {me.client.user_id}
                export = me.client.rpc("export_my_data")
                assert len(export["profiles"]) == (1 if me.keys else 0)
                assert {p["id"]: p["status"] for p in export["plans"]} == me.plans
                assert len(export["workouts"]) == len(me.workouts)
                assert len(export["messages"]) == len(me.messages)
                assert sorted(k["key"] for k in export["idempotency_keys"]) == sorted(me.keys)

    return CoachModel


def test_random_sessions_agree_with_the_model(make_user, client, admin):
    STEPS.clear()
    machine = make_machine(make_user, client, admin)
    run = settings(max_examples=max(10, settings().max_examples // 20))
    run_state_machine_as_test(machine, settings=run)

    print(f"\nstateful: {run.max_examples} runs, {sum(STEPS.values())} steps {dict(STEPS)}")
    assert STEPS["onboard"] and STEPS["complete"] and STEPS["post"]
