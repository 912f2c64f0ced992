"""One helper masks every password the CLI could print: in URLs, URL queries and libpq
keyword strings, wherever they sit in a message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.urls import mask_secrets, mask_url


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "postgresql://postgres:s3cr%40t@db.example.co:5432/postgres",
            "postgresql://postgres:***@db.example.co:5432/postgres",
        ),
        ("cannot reach postgres://u:p@ss@h/d: refused", "cannot reach postgres://u:***@h/d: refused"),
        ("postgresql://u@h/d?sslmode=require&password=zz", "postgresql://u@h/d?sslmode=require&password=***"),
        ("host=h password='a b' user=u", "host=h password=*** user=u"),
        ("password=abc dbname=x", "password=*** dbname=x"),
        ("postgresql://postgres@127.0.0.1:54329/coachdb", "postgresql://postgres@127.0.0.1:54329/coachdb"),
    ],
)
def test_passwords_are_masked_and_nothing_else_changes(text, masked):
    assert mask_secrets(text) == masked


@given(
    password=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/ \t\n\r"), min_size=1),
    user=st.text(alphabet="abcdefgh", min_size=1, max_size=8),
)
def test_no_url_password_survives(password, user):
    url = f"postgresql://{user}:{password}@db.example.test:5432/postgres"
    assert mask_url(url) == f"postgresql://{user}:***@db.example.test:5432/postgres"
