"""Hypothesis strategies, all in one place: valid payloads, and the hostile inputs the
fuzzer throws at every RPC."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

GOALS = ["general_fitness", "weight_loss", "strength", "endurance", "race_prep"]

#: A JSON text that PostgreSQL refuses to turn into text or jsonb (22P05).
NUL = "\x00"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", " ", "9999-99-99", "2030-02-30", "Mars/Olympus", "UTC+3", "x" * 9000, "0e0", "-1"]),
)

json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)


def valid_profile() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "display_name": st.text(
                alphabet=st.characters(codec="utf-8", exclude_characters=NUL), min_size=1, max_size=80
            ).filter(lambda s: s.strip()),
            "goal": st.sampled_from(GOALS),
            "days_per_week": st.integers(1, 7),
        },
        optional={
            "experience": st.sampled_from(["beginner", "intermediate", "advanced"]),
            "units": st.sampled_from(["metric", "imperial"]),
            "timezone": st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York"]),
            "metadata": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        },
    )


def valid_plan() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "name": st.text(alphabet="abcdefgh ", min_size=1, max_size=20).filter(lambda s: s.strip()),
            "starts_on": st.dates().filter(lambda d: 2000 <= d.year <= 2099).map(lambda d: d.isoformat()),
            "weeks": st.integers(1, 52),
            "workouts": st.lists(valid_workout(), min_size=1, max_size=3),
        },
    )


def valid_workout() -> st.SearchStrategy[dict]:
    """A well-formed workout; its date may still fall outside the plan (a cross-field rule)."""
    return st.fixed_dictionaries(
        {
            "scheduled_on": st.dates(min_value=date(2029, 12, 1), max_value=date(2030, 3, 1)).map(date.isoformat),
            "kind": st.sampled_from(["run", "strength", "mobility", "cross_training", "recovery"]),
        },
        optional={
            "title": st.text(alphabet="abcdefgh ", min_size=1, max_size=20).filter(lambda s: s.strip()),
            "targets": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        },
    )


@st.composite
def mutated(draw, base: st.SearchStrategy[dict]) -> object:
    """A valid object with one thing wrong: a field replaced by anything, an unknown key, a
    field removed, or not an object at all."""
    value = dict(draw(base))
    how = draw(st.sampled_from(["replace", "extra", "remove", "whole"]))
    if how == "whole":
        return draw(json_values)
    if how == "extra":
        value[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    elif value and how == "remove":
        value.pop(draw(st.sampled_from(sorted(value))))
    elif value:
        value[draw(st.sampled_from(sorted(value)))] = draw(json_values)
    return value


def uuids(known: list[str]) -> st.SearchStrategy[str | None]:
    """Ids that exist (the caller's or another user's), random ones, or none."""
    return st.one_of(st.none(), st.sampled_from(known), st.uuids().map(str))


def texts() -> st.SearchStrategy[object]:
    return st.one_of(json_values, st.text(max_size=50), st.just("y" * 8001), st.just("   "))


def rpc_arguments(world: dict[str, list[str]]) -> st.SearchStrategy[tuple[str, dict]]:
    """(rpc name, JSON body) with hostile values in every argument a client controls.

    Typed arguments (uuid, int, interval) get values of their JSON type (or null): a wrong
    JSON type there is refused by PostgREST's own argument conversion before any function
    runs. jsonb and text arguments get anything at all."""
    plans, workouts, conversations = world["plans"], world["workouts"], world["conversations"]
    messages = world["messages"]

    def body(*required: str, **fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
        """Arguments without a default are always sent (PostgREST finds a function by the
        keys of the body, and answers 404 itself when a required one is missing)."""
        return st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )

    return st.one_of(
        st.tuples(
            st.just("finalize_onboarding"),
            body(
                "idempotency_key",
                "profile",
                idempotency_key=texts(),
                profile=st.one_of(mutated(valid_profile()), valid_profile(), json_values),
                plan=st.one_of(mutated(valid_plan()), valid_plan(), json_values),
            ),
        ),
        st.tuples(st.just("activate_plan"), body("plan_id", plan_id=uuids(plans))),
        st.tuples(
            st.just("complete_workout"),
            body(
                "workout_id",
                workout_id=uuids(workouts),
                result=st.one_of(
                    json_values,
                    mutated(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "duration_min": st.integers(1, 1440),
                                "distance_m": st.integers(0, 10**6),
                                "rpe": st.integers(1, 10),
                                "notes": st.text(min_size=1, max_size=20),
                            },
                        )
                    ),
                ),
            ),
        ),
        st.tuples(st.just("skip_workout"), body("workout_id", workout_id=uuids(workouts), reason=texts())),
        st.tuples(st.just("start_conversation"), body(title=texts(), plan_id=uuids(plans))),
        st.tuples(
            st.just("post_message"),
            body(
                "conversation_id",
                "client_message_id",
                "content",
                conversation_id=uuids(conversations),
                client_message_id=st.one_of(st.uuids().map(str), st.none()),
                content=texts(),
            ),
        ),
        st.tuples(
            st.just("get_chat_context"),
            body(
                "conversation_id",
                conversation_id=uuids(conversations),
                message_limit=st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
            ),
        ),
        st.tuples(st.just("export_my_data"), st.just({})),
        st.tuples(
            st.just("record_assistant_message"),
            body(
                "conversation_id",
                "content",
                conversation_id=uuids(conversations),
                content=texts(),
                metadata=json_values,
                reply_to=uuids(messages),
            ),
        ),
        st.tuples(
            st.just("purge_idempotency_keys"),
            body(older_than=st.sampled_from(["-1 day", "-10 years", "0", "1 second", "100 years"])),
        ),
    )
