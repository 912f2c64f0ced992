"""Direct writes obey the RPCs' rules: one rule for every write path.

A signed-in user may update a few columns directly (the column grants: a profile's
display_name, experience, units, metadata; a plan's name and metadata; a conversation's
title). Those writes go through the same rules the RPCs apply: text is trimmed of
whitespace of any kind (tabs, newlines, no-break spaces: Python's ``str.isspace``), must not
be blank and has a maximum length; metadata is a JSON object of at most 16 KiB. A violation
is 22023 naming the column, and nothing is written.

Updates are sent the way PostgREST sends a PATCH: the JSON body becomes a row of the table
through ``json_populate_record``, and only the keys sent are assigned. Two refusals happen
in that conversion, before any rule of ours can run, exactly as through PostgREST (HTTP 400):
a string that is not a label of an enum column (22P02), and a NUL character (22P05).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql

from tests.helpers import error_of, snapshot
from tests.payloads import onboard
from tests.strategies import NUL, json_values

#: Every whitespace character, as Python (and the SQL rule, app_private.strip_whitespace) sees it.
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
ENUMS = {"experience": ["beginner", "intermediate", "advanced"], "units": ["metric", "imperial"]}
#: table -> column -> (kind, maximum length for text; whether null is allowed)
WRITABLE: dict[str, dict[str, tuple[str, int, bool]]] = {
    "profiles": {
        "display_name": ("text", 80, False),
        "experience": ("enum", 0, False),
        "units": ("enum", 0, False),
        "metadata": ("object", 0, False),
    },
    "plans": {"name": ("text", 120, False), "metadata": ("object", 0, False)},
    "conversations": {"title": ("text", 200, True)},
}
OUTCOMES: Counter[str] = Counter()

whitespace = st.text(alphabet=WHITESPACE, max_size=4)
words = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20)


def text_values(maximum: int) -> st.SearchStrategy[object]:
    return st.one_of(
        whitespace,  # blank, of any kind
        st.tuples(whitespace, words, whitespace).map("".join),  # stored trimmed
        st.tuples(whitespace, st.just("x" * maximum), whitespace).map("".join),  # the longest allowed
        st.just("x" * (maximum + 1)),
        st.none(),
        json_values,
    )


def object_values() -> st.SearchStrategy[object]:
    return st.one_of(
        json_values,
        st.dictionaries(st.text(max_size=8), json_values, max_size=4),
        st.integers(16000, 17000).map(lambda n: {"blob": "x" * n}),  # around the 16 KiB cap
        st.just({"blob": "x" * 5_000_000}),
    )


def values_for(kind: str, maximum: int) -> st.SearchStrategy[object]:
    if kind == "text":
        return text_values(maximum)
    if kind == "object":
        return object_values()
    return st.one_of(st.sampled_from(ENUMS["experience"] + ENUMS["units"]), st.none(), json_values)


@st.composite
def direct_updates(draw) -> tuple[str, dict[str, Any]]:
    table = draw(st.sampled_from(sorted(WRITABLE)))
    columns = draw(st.lists(st.sampled_from(sorted(WRITABLE[table])), min_size=1, max_size=3, unique=True))
    return table, {c: draw(values_for(*WRITABLE[table][c][:2])) for c in columns}


def patch(client, table: str, row_id: str, body: dict[str, Any]) -> int:
    """PostgREST's PATCH /table?id=eq.row_id: the body as a row of the table; rows changed."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in body)
    query = sql.SQL(
        "update public.{t} set ({c}) = (select {c} from json_populate_record(null::public.{t}, %s::json))"
        " where id = %s returning 1"
    ).format(t=sql.Identifier(table), c=columns)
    return len(client.execute(query, [json.dumps(body), row_id]))


def has_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def expected_refusal(table: str, column: str, value: object) -> str | None:
    """The SQLSTATE a value must be refused with, or None when it must be accepted; "?" when
    the outcome depends on PostgreSQL's text form of a non-string JSON value (only the stored
    invariants are checked then)."""
    kind, maximum, nullable = WRITABLE[table][column]
    if has_nul(value):
        return "?"
    if value is None:
        return None if nullable else "22023"
    if kind == "enum":
        return None if value in ENUMS[column] else "22P02"
    if kind == "object":
        return "?" if isinstance(value, dict) else "22023"
    if isinstance(value, str):
        return None if 1 <= len(value.strip()) <= maximum else "22023"
    return "?"


@pytest.fixture
def rows(alice, bob):
    """table -> (alice's row id, bob's row id)."""
    ids: dict[str, tuple[str, str]] = {}
    mine, theirs = onboard(alice), onboard(bob)
    ids["profiles"] = (mine["profile_id"], theirs["profile_id"])
    ids["plans"] = (mine["plan_id"], theirs["plan_id"])
    ids["conversations"] = (
        alice.rpc("start_conversation", title="Mine")["conversation_id"],
        bob.rpc("start_conversation", title="Theirs")["conversation_id"],
    )
    return ids


def stored(admin, table: str, row_id: str) -> dict[str, Any]:
    query = sql.SQL("select to_jsonb(t) from public.{} as t where id = %s").format(sql.Identifier(table))
    return admin.execute(query, [row_id]).fetchone()[0]


def check_invariants(admin, table: str, row: dict[str, Any]) -> None:
    for column, (kind, maximum, nullable) in WRITABLE[table].items():
        value = row[column]
        if value is None:
            assert nullable, (table, column, row)
        elif kind == "text":
            assert value == value.strip() and 1 <= len(value) <= maximum, (table, column, value)
        elif kind == "object":
            assert isinstance(value, dict), (table, column, value)
            size = admin.execute("select octet_length(%s::jsonb::text)", [json.dumps(value)]).fetchone()[0]
            assert size <= 16384, (table, column, size)


def test_direct_updates_obey_the_rpcs_rules(rows, alice, admin):
    @settings(database=None)
    @given(update=direct_updates(), own=st.integers(0, 4).map(bool))  # mostly own rows, some of bob's
    def check(update, own):
        table, body = update
        row_id = rows[table][0 if own else 1]
        before_all, before_row = snapshot(admin), stored(admin, table, row_id)
        expected = {c: expected_refusal(table, c, v) for c, v in body.items()}
        try:
            changed = patch(alice, table, row_id, body)
        except psycopg.Error as exc:
            OUTCOMES[exc.sqlstate] += 1
            assert snapshot(admin) == before_all, f"a refused update of {table} wrote something"
            assert own, "bob's row is invisible: the update matches no row and cannot fail"
            if exc.sqlstate == "22023":
                column = exc.diag.column_name
                assert column in body and str(exc).startswith(f"{column}: "), (body, str(exc))
                assert expected[column] in ("22023", "?"), (body, str(exc))
            elif exc.sqlstate == "22P02":
                assert any(WRITABLE[table][c][0] == "enum" and expected[c] == "22P02" for c in body), (body, exc)
            elif exc.sqlstate == "22P05":
                assert has_nul(body), (body, exc)
            else:
                raise AssertionError(f"{table} {body}: {exc.sqlstate} {exc}") from exc
        else:
            OUTCOMES["ok" if changed else "no row"] += 1
            after = stored(admin, table, row_id)
            if not own:
                assert changed == 0 and after == before_row, "a user changed another user's row"
                return
            assert changed == 1
            assert not [c for c, e in expected.items() if e not in (None, "?")], (body, "should be refused")
            for column, value in body.items():
                if isinstance(value, str) and WRITABLE[table][column][0] == "text":
                    assert after[column] == value.strip(), (column, value, after[column])
            check_invariants(admin, table, after)

    OUTCOMES.clear()
    check()
    print(f"\ndirect-write fuzzer: {sum(OUTCOMES.values())} updates, outcomes {dict(OUTCOMES)}")
    assert OUTCOMES["22023"] and OUTCOMES["ok"], "the fuzzer must reach both accepted and refused updates"


# -- the rule, example by example ----------------------------------------------------------


@pytest.mark.parametrize("blank", ["\t", "\n\n", " \r\n\t ", "\u00a0", "\u3000\u2003"])
def test_blank_text_of_any_whitespace_is_refused_naming_the_column(rows, alice, blank):
    err = error_of(lambda: patch(alice, "profiles", rows["profiles"][0], {"display_name": blank}))
    assert (err.sqlstate, err.diag.column_name, err.diag.message_primary) == (
        "22023",
        "display_name",
        "display_name: must not be blank",
    )


def test_direct_text_is_stored_trimmed_like_the_rpcs_store_it(rows, alice, admin):
    patch(alice, "plans", rows["plans"][0], {"name": "\u00a0 Spring 10k\t\n"})
    assert stored(admin, "plans", rows["plans"][0])["name"] == "Spring 10k"


def test_oversized_metadata_is_refused_as_the_rpcs_refuse_it(rows, alice, admin):
    before = snapshot(admin)
    err = error_of(lambda: patch(alice, "profiles", rows["profiles"][0], {"metadata": {"blob": "x" * 5_000_000}}))
    assert (err.sqlstate, err.diag.column_name) == ("22023", "metadata")
    assert "16384 bytes" in err.diag.message_primary
    assert snapshot(admin) == before


def test_the_rpcs_refuse_tabs_and_newlines_as_blank_too(alice):
    err = error_of(
        lambda: alice.rpc(
            "finalize_onboarding",
            idempotency_key="k",
            profile={"display_name": "\t\n", "goal": "strength", "days_per_week": 2},
        )
    )
    assert (err.sqlstate, err.diag.column_name) == ("22023", "profile.display_name")
    err = error_of(lambda: alice.rpc("start_conversation", title="\n\u2028"))
    assert (err.sqlstate, err.diag.column_name) == ("22023", "title")


def test_the_service_role_writes_under_the_same_rules(rows, service):
    err = error_of(lambda: patch(service, "conversations", rows["conversations"][0], {"title": " \t "}))
    assert (err.sqlstate, err.diag.column_name) == ("22023", "title")
