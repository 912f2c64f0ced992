"""No command line makes coachdb print a traceback or a password.

Hypothesis builds bad command lines for every command (unknown commands and options,
garbage values, out-of-range numbers, unusable data directories, URLs and conninfo strings
with a password pointing at a closed port) and runs ``main()`` on them. Each must end with
exactly one line, ``coachdb: error: ...`` on stderr (or, with doctor's ``--json``, one JSON
object on stdout), the documented exit code 2, and never the password it was given.

Every generated line is bad by construction (the command's last word is one that cannot
work), so nothing here starts a server, loads SQL or runs a benchmark."""

from __future__ import annotations

import contextlib
import io
import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import cli
from harness.cli import main
from harness.providers import PROVIDERS
from harness.providers.local import free_port
from harness.providers.url import URL_ENV

COMMANDS = ["up", "apply", "doctor", "lint", "bench", "generate", "test"]
OPTIONS = [
    "--url",
    "--port",
    "--data-dir",
    "--provider",
    "--reset",
    "--seed",
    "--json",
    "--fix",
    "--dry-run",
    "--no-drift",
    "--users",
    "--workouts",
    "--messages",
    "--rounds",
    "--quick",
    "--plot",
    "--bogus",
    "-x",
    "--",
]

passwords = st.text(alphabet=string.ascii_letters + string.digits, min_size=6, max_size=12).map(lambda s: "Pw" + s)
words = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20).filter(
    lambda s: not s.startswith("-h") and s != "--help"
)
numbers = st.one_of(st.integers(-(2**40), 2**40).map(str), st.sampled_from(["", "1e3", "0x10", "nan", "٣"]))


def closed_urls(password: str) -> st.SearchStrategy[str]:
    """Connection strings with a password, to a port where nothing listens."""
    port = free_port()
    return st.sampled_from(
        [
            f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres",
            f"postgres://u:{password}@127.0.0.1:{port}/db?sslmode=disable&application_name=x",
            f"postgresql://u@127.0.0.1:{port}/db?password={password}",
            f"host=127.0.0.1 port={port} user=u password={password} dbname=d",
            f"postgresql://u:{password}@127.0.0.1:{port}:{port}/db",
            f"postgresql://u:{password}@[::1/db",
        ]
    )


def garbage_urls() -> st.SearchStrategy[str]:
    """Text that is no connection string at all (no ``=``, not blank: libpq would otherwise
    take it as "connect to the default server")."""
    return words.filter(lambda s: s.strip() and "=" not in s)


@st.composite
def bad_command_lines(draw, scratch) -> tuple[list[str], str]:
    password = draw(passwords)
    value = st.one_of(words, numbers, closed_urls(password), garbage_urls())
    tokens = draw(st.lists(st.one_of(st.sampled_from(OPTIONS), value), max_size=5))
    command = draw(st.sampled_from([*COMMANDS, "nope", "", "--bogus"]))
    # The last word makes the line fail, whatever came before it.
    spoiler = {
        "up": st.tuples(
            st.just("--data-dir"),
            st.sampled_from([str(scratch / "a-file"), "/proc/nope/data", str(scratch / "junk")]),
        ),
        "apply": st.tuples(st.just("--url"), st.one_of(closed_urls(password), garbage_urls())),
        "doctor": st.tuples(st.just("--url"), st.one_of(closed_urls(password), garbage_urls())),
        "generate": st.tuples(st.just("--url"), st.one_of(closed_urls(password), garbage_urls())),
        "bench": st.tuples(st.sampled_from(["--users", "--rounds", "--messages"]), st.sampled_from(["0", "-1", "x"])),
        "test": st.tuples(st.just("--provider"), words.filter(lambda s: s != "auto" and s not in PROVIDERS)),
        "lint": st.tuples(words.filter(lambda s: s and not s.startswith("-")), st.just("--bogus")),
    }.get(command, st.tuples(st.just("--bogus")))
    if command == "test":  # after `--` everything is pytest's: the spoiler must stay coachdb's
        tokens = [t for t in tokens if t != "--"]
    tail = list(draw(spoiler))
    argv = ([command] if command else []) + tokens + tail
    return argv, password


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a directory")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("not a cluster")
    monkeypatch.chdir(tmp_path)
    # Where no --url is given, the environment's URL is used: a closed port, with a password.
    monkeypatch.setenv(URL_ENV, f"postgresql://postgres:PwFromTheEnv1@127.0.0.1:{free_port()}/postgres")
    # Insurance: a line that was meant to be bad must never get as far as real work.
    for name in ("_run_pass", "run_lint"):
        monkeypatch.setattr(cli, name, lambda *a, _name=name, **k: pytest.fail(f"a bad line reached {_name}"))
    monkeypatch.setattr(cli.bench, "run", lambda *a, **k: pytest.fail("a bad line reached bench.run"))
    monkeypatch.setattr(cli.BinariesProvider, "start", lambda *a, **k: pytest.fail("a bad line started a server"))
    return tmp_path


def test_no_bad_command_line_gives_a_traceback_or_a_password(scratch):
    seen: dict[int, int] = {}

    @settings(database=None)
    @given(line=bad_command_lines(scratch))
    def check(line):
        argv, password = line
        code, out, err = run_main(argv)
        seen[code] = seen.get(code, 0) + 1
        everything = out + err
        assert "Traceback" not in everything and "internal error" not in everything, (argv, everything)
        assert password not in everything and "PwFromTheEnv1" not in everything, (argv, everything)
        assert code == 2, (argv, code, everything)
        wants_json = "--json" in argv and argv[0] == "doctor"
        if wants_json and err == "":
            payload = json.loads(out)
            assert set(payload) == {"error", "exit_code"} and payload["exit_code"] == 2, out
        else:
            assert out == "", (argv, out)
            lines = err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("coachdb: error: "), (argv, err)

    check()
    assert seen == {2: sum(seen.values())}


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_command_has_a_description_and_true_help(command, capsys):
    argv = [command, "--help"] if command else ["--help"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "usage: coachdb" in text and "exit codes:" in text
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 5, f"`coachdb {command}` has no description: {text}"
    if command == "generate":
        assert "--quick" not in text  # generate has no --quick; its help must not mention one


def test_doctor_json_prints_json_even_when_it_cannot_connect():
    code, out, err = run_main(["doctor", "--json", "--url", f"postgresql://u:PwHidden9@127.0.0.1:{free_port()}/x"])
    assert code == 2 and err == ""
    payload = json.loads(out)
    assert "PwHidden9" not in out and payload["exit_code"] == 2 and "cannot reach u@127.0.0.1:" in payload["error"]


def test_a_connection_error_hint_matches_where_the_url_came_from(monkeypatch):
    url = f"postgresql://u:PwHidden9@127.0.0.1:{free_port()}/x"
    code, _out, err = run_main(["apply", "--url", url])
    assert code == 2 and "(check the URL given with --url)" in err
    monkeypatch.setenv(URL_ENV, url)
    code, _out, err = run_main(["apply"])
    assert code == 2 and f"(check ${URL_ENV})" in err
    assert "PwHidden9" not in err
