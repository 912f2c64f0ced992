"""The coachdb command as a person runs it: real processes, real servers."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from harness.providers import LOCAL_PROVIDERS
from harness.providers.local import free_port

COACHDB = [sys.executable, "-m", "harness.cli"]


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COACHDB, *args], capture_output=True, text=True, timeout=300, check=False, **kwargs)


@pytest.fixture
def empty_url(databases):
    url = databases.create_empty("coachdb_cli_apply")
    yield url
    databases.drop("coachdb_cli_apply")


def test_apply_twice_changes_nothing_the_second_time(empty_url):
    first = run("apply", "--url", empty_url)
    second = run("apply", "--url", empty_url)

    assert first.returncode == 0, first.stderr
    assert "applied   supabase/migrations/20261125000500_schema_010_profiles.sql" in first.stdout
    assert second.returncode == 0, second.stderr
    assert re.search(
        r"^0 file\(s\) applied, \d+ migration\(s\) already there; 0 drift repair\(s\)", second.stdout, re.M
    )
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("select count(*) from auth.users").fetchone() == (0,)  # no demo data


def test_apply_reads_the_url_from_the_environment(empty_url):
    import os

    result = run("apply", env={**os.environ, "COACHDB_DATABASE_URL": empty_url})
    assert result.returncode == 0, result.stderr


def test_apply_without_a_url_is_one_clear_line(monkeypatch):
    import os

    env = {k: v for k, v in os.environ.items() if k != "COACHDB_DATABASE_URL"}
    result = run("apply", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == "coachdb: error: apply needs a database: --url URL or COACHDB_DATABASE_URL"


def test_apply_to_an_unreachable_server_is_one_clear_line():
    result = run("apply", "--url", f"postgresql://postgres@127.0.0.1:{free_port()}/x?connect_timeout=2")
    assert result.returncode == 2
    assert result.stderr.startswith("coachdb: error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_up_serves_schema_and_demo_data_until_interrupted(provider):
    if provider.name not in LOCAL_PROVIDERS:
        pytest.skip("coachdb up runs a local cluster")
    import shutil

    from harness.providers._binaries import temporary_parent

    tmp_path = temporary_parent()  # reachable by the server's user when we are root
    port = free_port()
    proc = subprocess.Popen(
        [
            *COACHDB,
            "up",
            "--provider",
            provider.name,
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        output = "".join(lines)
        url = f"postgresql://postgres@127.0.0.1:{port}/coachdb"
        assert url in output, output + proc.stderr.read() if proc.poll() is not None else output
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("select count(*) from public.profiles").fetchone() == (3,)
            assert conn.execute("select count(*) from public.messages").fetchone() == (2,)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert proc.returncode == 0, err
    assert "coachdb: stopped" in out


def test_the_command_starts_without_the_optional_extras():
    """`pip install coachdb` brings no pytest, hypothesis, jsonschema, matplotlib, tqdm or the
    diff engine: `coachdb` must start (and `up`, `apply`, `doctor` run) without any of them."""
    extras = ("pytest", "hypothesis", "jsonschema", "matplotlib", "tqdm", "results")
    code = (
        "import sys\n"
        f"for name in {extras!r}: sys.modules[name] = None  # importing it now fails\n"
        "from harness.cli import main\n"
        "sys.exit(main(['--help']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage: coachdb" in result.stdout


def test_psycopg_cleanup_warnings_never_reach_the_user():
    """When Ctrl-C lands mid-query, psycopg's failed cleanup logs "error ignored in rollback";
    with no handler Python printed it before coachdb's own line (seen in CI: `coachdb up`
    interrupted while the schema loaded). After main() has run, such a warning prints nothing."""
    code = (
        "import logging; from harness import cli; cli.main(['apply', '--url', 'not a url']); "
        "logging.getLogger('psycopg').warning('error ignored in rollback on <psycopg.Connection>')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "error ignored" not in done.stderr
    assert done.stderr.startswith("coachdb: error:"), done.stderr
