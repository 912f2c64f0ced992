"""``coachdb up`` owns its data directory, refuses bad options in one line, and stops its
server whenever it is asked to, at any moment: never a second server on one directory,
never an orphaned postmaster."""

from __future__ import annotations

import json
import signal
import socket
import time

import psycopg
import pytest

from tests.cli.conftest import postmasters_of, run


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coachdb: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


# -- bad options: one line with the fix, exit 2, nothing started --------------------------------


def test_a_data_dir_that_cannot_be_created_is_one_line(local_provider):
    result = run("up", "--provider", local_provider, "--data-dir", "/proc/nope/data", "--port", "1")
    assert result.returncode == 2
    assert "cannot create it" in one_error_line(result)


def test_a_data_dir_that_is_a_file_is_one_line(local_provider, scratch):
    (scratch / "file").write_text("not a directory")
    result = run("up", "--provider", local_provider, "--data-dir", str(scratch / "file"))
    assert result.returncode == 2
    assert "is a file" in one_error_line(result)


def test_a_directory_of_other_files_is_neither_used_nor_reset(local_provider, scratch):
    (scratch / "mine").mkdir()
    (scratch / "mine" / "notes.txt").write_text("keep me")
    for extra in ([], ["--reset"]):
        result = run("up", "--provider", local_provider, "--data-dir", str(scratch / "mine"), *extra)
        assert result.returncode == 2
        assert "not a PostgreSQL cluster" in one_error_line(result)
    assert (scratch / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("port", ["99999", "0", "-5", "http"])
def test_a_port_out_of_range_is_one_line(local_provider, scratch, port):
    result = run("up", "--provider", local_provider, "--data-dir", str(scratch / "data"), f"--port={port}")
    assert result.returncode == 2
    assert "must be a TCP port number from 1 to 65535" in one_error_line(result)


def test_a_port_in_use_is_one_line_and_starts_nothing(make_up):
    up = make_up()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", up.port))
        taken.listen()
        up.start()
        _out, err = up.proc.communicate(timeout=120)
    assert up.proc.returncode == 2
    assert err.strip() == f"coachdb: error: port {up.port} is in use on 127.0.0.1: give another with --port"
    assert postmasters_of(up.data_dir) == []


# -- one server per data directory --------------------------------------------------------------


@pytest.mark.slow
def test_a_second_up_and_a_reset_are_refused_while_one_serves(make_up):
    first = make_up()
    first.start()
    first.wait_ready()
    pid = first.proc.pid
    for extra in ([], ["--reset"]):
        result = run("up", "--provider", first.provider, "--data-dir", str(first.data_dir), "--port", "1", *extra)
        line = one_error_line(result)
        assert result.returncode == 2
        assert f"another coachdb up (pid {pid})" in line and first.url in line
    with psycopg.connect(first.url) as conn:  # the first one still serves, its data intact
        assert conn.execute("select count(*) from public.profiles").fetchone() == (3,)
    code, out, _err = first.interrupt()
    assert code == 0 and "coachdb: stopped" in out
    assert postmasters_of(first.data_dir) == []


@pytest.mark.slow
def test_the_orphan_of_a_killed_up_is_stopped_by_the_next_up(make_up):
    first = make_up()
    first.start()
    first.wait_ready()
    first.proc.send_signal(signal.SIGKILL)  # no chance to clean up
    first.proc.wait()
    orphans = postmasters_of(first.data_dir)
    assert orphans, "the killed up's server should still run"

    second = make_up(port=first.port)
    second.data_dir = first.data_dir
    second.start()
    output = second.wait_ready()
    assert f"stopping the server a previous coachdb up left running (pid {orphans[0]})" in output
    code, _out, _err = second.interrupt()
    assert code == 0
    assert postmasters_of(first.data_dir) == []


@pytest.mark.slow
def test_the_orphan_of_an_up_killed_while_launching_is_stopped_too(make_up):
    first = make_up()
    first.start()
    first.wait_ready()
    lock = first.data_dir.with_name(first.data_dir.name + ".coachdb-up.lock")
    launched_at = json.loads(lock.read_text())["launched_at"]
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    lock.write_text(json.dumps({"pid": first.proc.pid, "launched_at": launched_at}))  # killed before it knew the pid

    second = make_up(port=first.port)
    second.data_dir = first.data_dir
    second.start()
    assert "stopping the server a previous coachdb up left running" in second.wait_ready()
    assert second.interrupt()[0] == 0
    assert postmasters_of(first.data_dir) == []


@pytest.mark.slow
def test_a_server_not_started_by_up_is_left_alone_and_named(make_up):
    first = make_up()
    first.start()
    first.wait_ready()
    lock = first.data_dir.with_name(first.data_dir.name + ".coachdb-up.lock")
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    lock.write_text(json.dumps({"pid": 1}))  # as if someone else had started this server
    postmaster = postmasters_of(first.data_dir)

    result = run("up", "--provider", first.provider, "--data-dir", str(first.data_dir), "--port", "1")
    line = one_error_line(result)
    assert f"a PostgreSQL server (pid {postmaster[0]}) already runs on {first.data_dir}" in line
    assert "pg_ctl -D" in line
    assert postmasters_of(first.data_dir) == postmaster  # not touched


# -- Ctrl-C at every moment ----------------------------------------------------------------------


def wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.01)


MOMENTS = {
    "at once": lambda up: True,
    "once up holds the directory": lambda up: up.data_dir.with_name(up.data_dir.name + ".coachdb-up.lock").exists(),
    "during initdb": lambda up: up.data_dir.exists() and any(up.data_dir.iterdir()),
    "while the server starts": lambda up: (up.data_dir / "postmaster.pid").exists(),
    "while the schema loads": lambda up: (
        (up.data_dir / "postmaster.pid").exists()
        and up.data_dir.with_name(up.data_dir.name + ".coachdb-up.lock").read_text().find('"url"') >= 0
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("moment", sorted(MOMENTS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_at_any_moment_of_startup_leaves_no_server(make_up, moment, sig):
    up = make_up()
    up.start()
    wait_for(lambda: MOMENTS[moment](up) or up.proc.poll() is not None)
    code, out, err = up.interrupt(sig)
    assert "Traceback" not in err
    ready_seen = "Press Ctrl-C" in out
    print(f"\n{moment} {sig!r}: exit {code}, served: {ready_seen}")
    if ready_seen:
        assert code == 0, err  # it came up before the signal landed: a normal stop
    elif code == -sig:
        assert (out, err) == ("", "")  # it died of the signal before Python ran any of coachdb
    else:
        assert code == 130, (out, err)
        assert err.startswith("coachdb: interrupted"), err
    assert "coachdb: stopped" in out or not ready_seen
    assert postmasters_of(up.data_dir) == [], f"orphaned server after a signal {moment}"


@pytest.mark.slow
def test_up_serves_until_interrupted_then_restarts_on_the_same_data(make_up):
    up = make_up()
    up.start()
    up.wait_ready()
    with psycopg.connect(up.url) as conn:
        assert conn.execute("select count(*) from public.profiles").fetchone() == (3,)
    assert up.interrupt()[0] == 0
    up.start()
    output = up.wait_ready()
    assert "0 file(s) applied" in output
    assert up.interrupt()[0] == 0
    assert postmasters_of(up.data_dir) == []


@pytest.mark.slow
def test_a_server_that_will_not_start_is_one_line_quoting_its_fatal_error(make_up):
    up = make_up()
    up.start()
    up.wait_ready()
    assert up.interrupt()[0] == 0
    conf = up.data_dir / "postgresql.conf"
    conf.write_text(conf.read_text() + "\nshared_buffers = 'plenty'\n")
    result = run("up", "--provider", up.provider, "--data-dir", str(up.data_dir), "--port", str(up.port))
    line = one_error_line(result)
    assert result.returncode == 2
    assert line.startswith("coachdb: error: the server did not start: FATAL: ") and "server.log" in line
    assert postmasters_of(up.data_dir) == []
