"""The package works wherever it is installed, not only in a checkout: a wheel built from
the tree, installed into a fresh venv and run from a directory outside the checkout, serves
(``up``), loads (``apply --url``) and diagnoses (``doctor``) a real database.

The fresh venv takes its dependencies (psycopg, pgserver, pglast) from the running
environment through a path entry, so the test needs no download beyond the build backend;
``harness`` itself must come from the wheel, which the test checks first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import psycopg
import pytest

from harness import ROOT
from harness.providers.local import free_port
from tests.cli.conftest import READY, Up, postmasters_of

pytestmark = pytest.mark.slow

IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


def sh(*args: str | Path, cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with coachdb installed from a wheel (not editable); its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)  # build from a copy: the checkout stays clean
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", source, cwd=work)
    (wheel,) = (work / "dist").glob("coachdb-*.whl")
    venv = work / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    python = venv / "bin" / "python"
    sh(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel, cwd=work)
    site = Path(sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work).stdout.strip())
    (site / "coachdb-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


@pytest.fixture
def outside(scratch: Path) -> Path:
    """A working directory outside the checkout (and away from its db/)."""
    path = scratch / "elsewhere"
    path.mkdir()
    return path


def test_the_installed_package_is_the_wheel_with_its_sql(installed, outside):
    probe = "import harness; print(harness.__file__); print(harness.SQL_ROOT)"
    module, sql_root = sh(installed / "python", "-c", probe, cwd=outside).stdout.split()
    venv = installed.parent
    assert Path(module).is_relative_to(venv) and Path(sql_root).is_relative_to(venv)
    assert sorted(p.name for p in (Path(sql_root) / "db" / "standin").glob("*.sql"))  # the stand-in ships
    assert list((Path(sql_root) / "supabase" / "migrations").glob("*.sql"))


def test_up_apply_and_doctor_work_from_a_wheel_outside_the_checkout(installed, outside, scratch, local_provider):
    env = {k: v for k, v in os.environ.items() if k not in ("COACHDB_DATABASE_URL", "PYTHONPATH")}
    up = Up(scratch / "data", free_port(), provider=local_provider)
    up.proc = subprocess.Popen(
        [installed / "coachdb", "up", "--provider", local_provider, "--data-dir", up.data_dir, "--port", str(up.port)],
        cwd=outside,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = up.wait_ready()
        assert READY in output and " 0 file(s) applied" not in output  # the wheel had SQL to load
        with psycopg.connect(up.url) as conn:
            assert conn.execute("select count(*) from public.profiles").fetchone() == (3,)
            conn.execute("commit")
            conn.autocommit = True
            conn.execute("create database wheel_apply")
        target = up.url.rsplit("/", 1)[0] + "/wheel_apply"

        applied = subprocess.run(
            [installed / "coachdb", "apply", "--url", target], cwd=outside, env=env, capture_output=True, text=True
        )
        assert applied.returncode == 0, applied.stderr
        assert "applied   supabase/migrations/20261125000500_schema_010_profiles.sql" in applied.stdout
        with psycopg.connect(target) as conn:
            tables = {r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")}
            assert {"profiles", "plans", "workouts", "conversations", "messages", "idempotency_keys"} <= tables
            assert conn.execute("select to_regclass('auth.users') is not null").fetchone() == (True,)

        doctor = subprocess.run(
            [installed / "coachdb", "doctor", "--url", target], cwd=outside, env=env, capture_output=True, text=True
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "Traceback" not in doctor.stderr
    finally:
        code, _out, err = up.interrupt()
    assert code == 0, err
    assert postmasters_of(up.data_dir) == []


@pytest.mark.parametrize("command", ["test", "lint"])
def test_checkout_only_commands_say_so_in_one_line_from_a_wheel(installed, outside, command):
    result = subprocess.run([installed / "coachdb", command], cwd=outside, capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "run it from a checkout" in lines[0], result.stderr
