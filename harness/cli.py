"""The ``coachdb`` command: ``up``, ``apply``, ``doctor``, ``lint``, ``bench``, ``generate``, ``types``,
``supabase``, ``push``, ``diff``, ``test``.

Every failure the harness expects (a bad option, a server that will not start, a SQL file
that does not apply, a database that cannot be reached) ends as one line,
``coachdb: error: ...``, on stderr; never a traceback, and never a password (every line the
CLI prints about a database goes through ``harness.urls.mask_secrets``). With ``--json``
the error is a JSON object on stdout instead. Exit codes, the same for every command:

    0    success
    1    the command ran and found problems (doctor findings, failing tests or lint)
    2    it could not do its job: bad option, unreachable database, a failed step
    130  interrupted (Ctrl-C, SIGTERM, SIGHUP); a server ``up`` started is stopped first
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
from psycopg import sql

from harness import ROOT, bench
from harness.doctor import command as doctor_command
from harness.doctor import render_text
from harness.errors import HarnessError, ProviderError, ProviderUnavailable
from harness.generate import Scale, generate
from harness.guard import LockPolicy
from harness.lint import run as run_lint
from harness.loader import apply
from harness.pooler import find_pgbouncer
from harness.providers import LOCAL_PROVIDERS, MATRIX, PROVIDERS, available, get_provider
from harness.providers._binaries import BinariesProvider
from harness.providers.local import is_root
from harness.providers.url import URL_ENV
from harness.repair import run_repairs
from harness.testsummary import SUMMARY_ENV
from harness.up import (
    DataDirLock,
    Interrupted,
    Interrupts,
    log_size,
    port_in_use,
    reset,
    resolve_data_dir,
    server_failure,
    take_over,
    wait_for_stop_request,
)
from harness.urls import mask_secrets

DEFAULT_PORT = 54329
DEMO_DATABASE = "coachdb"
DEMO_USER = "00000000-0000-4000-8000-000000000001"  # Ada, from db/seed/


def default_data_dir() -> Path:
    """Where ``coachdb up`` keeps its cluster: /var/lib/coachdb/data as root (the server's
    user must reach it), else $XDG_DATA_HOME/coachdb/data (~/.local/share/coachdb/data)."""
    if is_root():
        return Path("/var/lib/coachdb/data")
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "coachdb" / "data"


# -- up -----------------------------------------------------------------------------------------


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def cmd_up(args: argparse.Namespace) -> int:
    """Serve the schema and demo data until Ctrl-C. See harness/up.py for the rules it keeps."""
    interrupts = Interrupts().install()
    try:
        return _serve(args, interrupts)
    except Interrupted:  # before a server was launched: nothing to stop
        print("coachdb: interrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        interrupts.restore()


def _serve(args: argparse.Namespace, interrupts: Interrupts) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    serving = False
    with DataDirLock(data_dir) as lock:
        provider = get_provider(args.provider, data_dir=data_dir, port=args.port)
        assert isinstance(provider, BinariesProvider)
        cluster = provider.cluster
        launched = False  # only a server this process launched is ever stopped here
        try:
            with interrupts.deferred():
                take_over(lock, cluster, out=lambda line: print(f"coachdb: {line}", flush=True))
                if args.reset:
                    reset(data_dir)
                if port_in_use(args.port):
                    raise HarnessError(f"port {args.port} is in use on 127.0.0.1: give another with --port")
                launched = True
                launched_at = time.time()
                lock.record(launched_at=launched_at)  # killed from here on: the next up stops our server
                offset = log_size(cluster)
                try:
                    provider.start()
                except ProviderError as exc:
                    raise server_failure(exc, cluster, offset) from None
            url = provider.url_for(DEMO_DATABASE)
            lock.record(url=url, postmaster=cluster.postmaster_pid(), launched_at=launched_at)
            _ensure_database(provider.url, DEMO_DATABASE)
            report = apply(url, seed=True)
            psql = cluster.bin_dir / "psql"
            serving = True  # from the banner on, Ctrl-C is the normal way to stop (exit 0)
            print(
                f"coachdb is up: {provider.describe()}, schema and demo data loaded ({report.summary()})\n"
                f"  data directory: {data_dir}\n"
                f"  connect:        {mask_secrets(url)}\n"
                f"  as demo user Ada, the way PostgREST does it:\n"
                f"    {psql} '{mask_secrets(url)}' -c \"begin; select set_config('role', 'authenticated', true),"
                f" set_config('request.jwt.claims', json_build_object('sub', '{DEMO_USER}')::text, true);"
                f' select name, status, starts_on from plans; commit;"\n'
                f"Press Ctrl-C to stop.",
                flush=True,
            )
            wait_for_stop_request(cluster)
        except Interrupted:
            if not serving:
                print("coachdb: interrupted; stopping", file=sys.stderr, flush=True)
        finally:
            with interrupts.deferred(honour=False):  # a second Ctrl-C must not cut the shutdown
                if launched and cluster.running:
                    cluster.stop()
    print("coachdb: stopped", flush=True)
    return 0 if serving else 130


# -- apply --------------------------------------------------------------------------------------


def cmd_apply(args: argparse.Namespace) -> int:
    """Print the plan, then (unless --dry-run) run it and say what was done. Exit 1 when drift
    remains that apply does not repair by itself (schema drift: it needs a migration)."""
    url = args.url or os.environ.get(URL_ENV)
    if not url:
        raise HarnessError(f"apply needs a database: --url URL or {URL_ENV}")
    if args.lock_timeout <= 0 or args.lock_retries < 0:
        raise HarnessError("--lock-timeout must be above 0 seconds and --lock-retries 0 or more")
    policy = LockPolicy(timeout=args.lock_timeout, retries=args.lock_retries)
    report = apply(url, seed=args.seed, dry_run=args.dry_run, lock=policy, on_plan=lambda p: print(p.render()))
    if args.dry_run:
        print("dry run: nothing was changed")
        return 0
    for name in report.applied:
        print(f"applied   {name}")
    for line in report.concurrent:
        print(f"built     {line}")
    for line in report.repaired:
        print(f"repaired  {line}")
    for statement in report.skipped:
        print(f"skipped   {statement.splitlines()[0]} (it would change nothing)")
    print(report.summary())
    repaired = run_repairs(url, out=lambda line: print(f"repair    {line}"))
    if repaired:
        print(f"{repaired} missing unique key(s) restored (merged rows kept in coachdb_meta.merged_rows)")
    if report.unresolved:
        print(render_text(report.unresolved))
        return 1
    return 0


# -- doctor and lint -------------------------------------------------------------------------


def default_url() -> str:
    """The database to diagnose: --url, $COACHDB_DATABASE_URL, else the one `coachdb up` serves."""
    return os.environ.get(URL_ENV) or f"postgresql://postgres@127.0.0.1:{DEFAULT_PORT}/{DEMO_DATABASE}"


def cmd_doctor(args: argparse.Namespace) -> int:
    """One report on stdout (one JSON document with --json), also when doctor cannot run."""
    options = doctor_command.Options(
        fix=args.fix,
        dry_run=args.dry_run,
        json=args.json,
        mode=args.mode,
        with_drift=not args.no_drift,
        connection_hint=_connection_hint(args),
    )
    return doctor_command.main(args.url or default_url(), options)


def cmd_lint(args: argparse.Namespace) -> int:
    if not (ROOT / "db" / "schema").is_dir() or not (ROOT / ".sqlfluff").is_file():
        raise HarnessError(
            f"coachdb lint checks the repository's SQL sources, which are not here ({ROOT}): "
            "run it from a checkout (pip install -e '.[test]')"
        )
    return 1 if run_lint() else 0


# -- bench and generate ------------------------------------------------------------------------


def _scale(args: argparse.Namespace, default: Scale) -> Scale:
    return Scale(
        users=args.users or default.users,
        workouts=args.workouts or default.workouts,
        messages=args.messages or default.messages,
    )


def cmd_bench(args: argparse.Namespace) -> int:
    base = bench.QUICK if args.quick else bench.FULL
    settings = dataclasses.replace(
        base, scale=_scale(args, base.scale), rounds=args.rounds or base.rounds, provider=args.provider
    )
    names = available(MATRIX) if args.provider == "all" else [args.provider]
    if not names:
        raise HarnessError("no server of the matrix can run here: pip install pgserver")
    all_results = bench.run_matrix(settings, names)
    for results in all_results:
        print(bench.render_table(results))
    if len(all_results) > 1:
        print(bench.render_matrix(all_results))
    if args.json:
        payload = all_results[0] if len(all_results) == 1 else {"servers": all_results}
        bench.write_json(payload, Path(args.json))
        print(f"results written to {args.json}")
    if args.plot:
        for results in all_results:
            path = Path(args.plot)
            if len(all_results) > 1:
                path = path.with_name(f"{path.stem}-{results['settings']['provider']}{path.suffix}")
            try:
                bench.plot(results, path)
            except ImportError as exc:
                raise HarnessError("--plot needs matplotlib (pip install -e '.[bench]')") from exc
            print(f"chart written to {path}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get(URL_ENV)
    if not url:
        raise HarnessError(f"generate needs a database with the schema: --url URL or {URL_ENV}")
    timings = generate(url, _scale(args, Scale()))
    print(", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return 0


# -- types --------------------------------------------------------------------------------------


def cmd_types(args: argparse.Namespace) -> int:
    """Write (or with --check, compare) the client types of one language."""
    from harness import typegen

    if args.url:
        with psycopg.connect(args.url, connect_timeout=10) as conn:
            text = typegen.render_from(conn, args.language)
    else:
        text = typegen.render_fresh(args.language, args.provider)
    out = Path(args.out) if args.out else typegen.OUTPUTS[args.language]
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current != text:
            print(f"{out} is stale: regenerate it with `coachdb types {args.language}`", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


# -- supabase, push and diff -------------------------------------------------------------------


def cmd_supabase(args: argparse.Namespace) -> int:
    from harness.migrations import rebaseline
    from harness.supabase_project import generate, stale_files

    if args.rebaseline:
        for path in rebaseline():
            print(f"wrote     supabase/migrations/{path.name}")
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale     supabase/{name}")
        print("supabase/ is up to date" if not stale else "run `coachdb supabase` to refresh it")
        return 1 if stale else 0
    changed = generate()
    for name in changed:
        print(f"wrote     supabase/{name}")
    print(f"supabase/: {len(changed)} file(s) written" if changed else "supabase/ is up to date")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from harness.supabase_push import push

    url = args.url or os.environ.get(URL_ENV)
    if not url:
        raise HarnessError(f"push needs a database: --url URL or {URL_ENV}")
    report = push(url, Path(args.migrations) if args.migrations else None, out=print)
    print(report.summary())
    return 0


def lock_classifier(statement: str) -> list[str]:
    """apply's statement classifier (harness.locks), as the diff's risk annotations use it: a
    line only for a statement that rewrites a table, scans it under its lock, or loses data."""
    from harness.locks import classify

    effect = classify(statement)
    return [effect.describe()] if effect.rewrites or effect.scans or effect.data_loss else []


def cmd_diff(args: argparse.Namespace) -> int:
    from harness.diff import Rename, diff

    renames = [Rename.parse(text) for text in args.rename]
    result = diff(args.name, server_url=args.url, renames=renames, write=not args.dry_run, classifier=lock_classifier)
    if result.empty:
        print("no changes: the tree and supabase/migrations agree")
        return 0
    if args.dry_run:
        print(result.text)
    for risk in result.risky:
        first = risk.statement.splitlines()[0][:100]
        reasons = [*risk.data_loss, *risk.casts, *(f"rewrites {r}" for r in risk.rewrites), *risk.squawk]
        print(f"risk      {first}\n          " + "\n          ".join(reasons))
    for file in result.carried:
        print(f"carried   {file} (its new text)")
    if result.path:
        print(f"wrote     {result.path.relative_to(ROOT) if result.path.is_relative_to(ROOT) else result.path}")
    return 0


# -- test ---------------------------------------------------------------------------------------


#: What the pooler pass runs again behind pgbouncer: everything a client does.
POOLED_SUITES = ("tests/contract", "tests/isolation", "tests/reliability")


def _pgbouncer_missing() -> str | None:
    try:
        find_pgbouncer()
    except ProviderUnavailable as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class SuitePass:
    """One pytest run of ``coachdb test``: a server (provider name; None = the last server
    that ran before it), extra pytest arguments, and what else it needs to run here."""

    label: str
    provider: str | None
    pytest_args: tuple[str, ...] = ()
    needs: Callable[[], str | None] = lambda: None
    whole_suite_only: bool = False  # not run when the command line narrows the suite

    def unavailable_reason(self, provider: str | None) -> str | None:
        if provider is None:
            return "no server ran before it"
        cls = PROVIDERS.get(provider)
        if cls is None:
            return f"unknown provider {provider!r}"
        return cls.unavailable_reason() or self.needs()


#: The passes of ``coachdb test`` (``--provider auto``), in order: every server this machine
#: may have, then the client-facing suites again behind pgbouncer. A new server is one line.
AUTO_PASSES: tuple[SuitePass, ...] = (
    SuitePass("embedded", "embedded"),
    SuitePass("pg17", "pg17"),
    SuitePass("system", "system"),
    SuitePass(
        "behind pgbouncer",
        None,
        ("--pooler", *POOLED_SUITES),
        needs=_pgbouncer_missing,
        whole_suite_only=True,
    ),
)


@dataclass
class PassResult:
    label: str
    provider: str | None
    skipped_because: str | None = None
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    skips: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    exit_code: int = 0
    seconds: float = 0.0


def plan_passes(choice: str, pytest_args: Sequence[str]) -> list[tuple[SuitePass, str | None]]:
    """Each pass with the provider it will use (``auto``: every pass of AUTO_PASSES)."""
    passes = AUTO_PASSES if choice == "auto" else (SuitePass(choice, choice),)
    planned: list[tuple[SuitePass, str | None]] = []
    last: str | None = None
    for suite_pass in passes:
        provider = suite_pass.provider or last
        planned.append((suite_pass, provider))
        if suite_pass.provider and suite_pass.unavailable_reason(provider) is None:
            last = suite_pass.provider
    return planned


#: At most this many pytest-xdist workers: each starts a server of its own.
MAX_WORKERS = 4


def parallel_args(pytest_args: Sequence[str]) -> list[str]:
    """A worker per core (up to MAX_WORKERS) when pytest-xdist is installed and the caller
    chose nothing about it: each worker starts its own server and template, so a pass takes
    about half the time on 2 cores (pg17: 188 s with one process, 109 s with two)."""
    chosen = any(a == "no:xdist" or a.startswith(("-n", "--numprocesses")) for a in pytest_args)
    if chosen or importlib.util.find_spec("xdist") is None:
        return []
    return ["-n", str(min(MAX_WORKERS, len(os.sched_getaffinity(0))))]


def _run_pass(suite_pass: SuitePass, provider: str, pytest_args: Sequence[str]) -> PassResult:
    label = suite_pass.label if suite_pass.provider else f"{suite_pass.label} ({provider})"
    result = PassResult(label, provider)
    with tempfile.TemporaryDirectory(prefix="coachdb-test-") as scratch:
        summary = Path(scratch) / "summary.json"
        env = {**os.environ, SUMMARY_ENV: str(summary)}
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "harness.testsummary",
            f"--provider={provider}",
            *parallel_args(pytest_args),
            *suite_pass.pytest_args,
            *pytest_args,
        ]
        started = time.monotonic()
        result.exit_code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        result.seconds = time.monotonic() - started
        if summary.exists():
            data = json.loads(summary.read_text())
            result.counts, result.skips = data["counts"], [tuple(pair) for pair in data["skips"]]
    return result


def render_summary(results: list[PassResult]) -> str:
    """One summary across every pass: counts per server, then every pass that did not run."""
    lines = ["=== coachdb test: summary ==="]
    width = max(len(r.label) for r in results)
    for r in results:
        if r.skipped_because:
            continue
        c = r.counts
        counts = f"{c.get('passed', 0)} passed, {c.get('failed', 0)} failed, {c.get('skipped', 0)} skipped"
        if c.get("errors"):
            counts += f", {c['errors']} errors"
        verdict = "ok" if r.exit_code == 0 else f"FAILED (pytest exit {r.exit_code})"
        lines.append(f"{r.label:<{width}}  {counts}  in {r.seconds:.0f}s  {verdict}")
        for reason, count in r.skips[:5]:
            lines.append(f"{'':<{width}}    skipped {count}x: {reason}")
        if len(r.skips) > 5:
            lines.append(f"{'':<{width}}    ... and {len(r.skips) - 5} other skip reason(s)")
    not_run = [r for r in results if r.skipped_because]
    if not_run:
        lines.append("not run here:")
        lines += [f"  {r.label}: {r.skipped_because}" for r in not_run]
    return "\n".join(lines)


def cmd_test(args: argparse.Namespace, pytest_args: list[str]) -> int:
    if not (ROOT / "tests" / "conftest.py").is_file():
        raise HarnessError(
            f"coachdb test runs the repository's test suite, which is not here ({ROOT / 'tests'}): "
            "run it from a checkout (pip install -e '.[test]')"
        )
    results: list[PassResult] = []
    for suite_pass, provider in plan_passes(args.provider, pytest_args):
        reason = suite_pass.unavailable_reason(provider)
        if reason is None and suite_pass.whole_suite_only and pytest_args:
            reason = "runs only with the whole suite (arguments were given to pytest)"
        if reason is not None:
            if args.provider != "auto":
                raise HarnessError(f"cannot test against {suite_pass.label}: {reason}")
            results.append(PassResult(suite_pass.label, provider, skipped_because=reason))
            continue
        assert provider is not None
        print(f"=== coachdb test: {suite_pass.label} ({provider}) ===", flush=True)
        results.append(_run_pass(suite_pass, provider, pytest_args))
    print(render_summary(results), flush=True)
    ran = [r for r in results if not r.skipped_because]
    if not ran:
        raise HarnessError("no server can run here: pip install pgserver, or apt-get install postgresql-15")
    return next((r.exit_code for r in ran if r.exit_code), 0)


# -- entry point --------------------------------------------------------------------------------


class UsageError(HarnessError):
    """A command line argparse refused; reported as one line like every other error."""


class CliParser(argparse.ArgumentParser):
    """argparse, with its errors raised (main prints them as one line with the help hint)
    instead of a usage block and an exit from deep inside the parser."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port number from 1 to 65535, not {text!r}")
    return port


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


EPILOG = """exit codes: 0 success; 1 problems found (doctor findings, failing tests or lint);
2 could not do the job (bad option, unreachable database, failed step); 130 interrupted.
Errors are one line on stderr (with --json: a JSON object on stdout); passwords are masked."""


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="coachdb",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.set_defaults(subcommands=sub)

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=EPILOG,
            allow_abbrev=False,
        )

    up = command(
        "up",
        "start a local server with the schema and demo data",
        "Start a local PostgreSQL (embedded: the pgserver wheel; or the system's), load the schema and "
        "the demo data, print how to connect, and serve until Ctrl-C. One `up` per data directory: a "
        "second one (or a --reset) while it serves is refused, naming its pid and URL.",
    )
    up.add_argument("--data-dir", default=str(default_data_dir()), help="cluster directory (default: %(default)s)")
    up.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="TCP port on 127.0.0.1 (default: %(default)s)"
    )
    up.add_argument(
        "--provider", choices=LOCAL_PROVIDERS, default="embedded", help="server binaries (default: embedded)"
    )
    up.add_argument("--reset", action="store_true", help="delete the data directory (a cluster) first")

    ap = command(
        "apply",
        "bring a live database to the SQL tree: plan, migrations, convergence",
        "Bring the database at --url to the SQL tree: a preflight that refuses (writing nothing) where "
        "the tree would collide with objects that are not coachdb's, the pending migrations of "
        "supabase/migrations (recorded as `supabase db push` records them), then convergence of RLS, "
        "policies, grants, functions, triggers and comments. Every lock on an existing table waits at "
        "most --lock-timeout, retried with backoff. --dry-run prints the plan and changes nothing.",
    )
    ap.add_argument("--url", help=f"database URL (default: ${URL_ENV})")
    ap.add_argument("--seed", action="store_true", help="also load the demo data (never on production)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    ap.add_argument(
        "--lock-timeout",
        type=float,
        default=LockPolicy.timeout,
        metavar="SECONDS",
        help="longest any request may wait behind one of apply's steps (default: %(default)s)",
    )
    ap.add_argument(
        "--lock-retries",
        type=int,
        default=LockPolicy.retries,
        metavar="N",
        help="retries of a step that could not get its locks, with backoff (default: %(default)s)",
    )

    doctor = command(
        "doctor",
        "diagnose a live database (coachdb's or any other); --fix repairs it",
        "Diagnose a live database. On a coachdb database (its ledger is there): drift from the SQL "
        "tree too. On any database: ON CONFLICT targets without a unique key in every function, the "
        "duplicates blocking them, and the advisor lints. --fix restores the missing unique keys "
        "without losing a row; --dry-run changes nothing.",
    )
    doctor.add_argument("--url", help=f"database URL (default: ${URL_ENV}, else the `coachdb up` server)")
    doctor.add_argument("--json", action="store_true", help="the report as one JSON document (also on failure)")
    doctor.add_argument("--fix", action="store_true", help="restore missing unique keys, merging duplicates")
    doctor.add_argument("--dry-run", action="store_true", help="print the repair SQL, change nothing")
    doctor.add_argument("--no-drift", action="store_true", help="skip the comparison with a reference build")
    doctor.add_argument(
        "--mode",
        choices=["tree", "generic"],
        help="tree: compare with coachdb's SQL tree; generic: any database's checks only (default: detected)",
    )

    command(
        "lint",
        "sqlfluff on the SQL, plpgsql_check on every function",
        "Lint the SQL tree: sqlfluff with the repository's .sqlfluff, and plpgsql_check on every "
        "function where a server with the extension is available. Exit 1 on any finding.",
    )

    def scale_options(p: argparse.ArgumentParser, quick: bool) -> None:
        note = "; --quick 500" if quick else ""
        p.add_argument("--users", type=positive_int, help=f"users to generate (default 10000{note})")
        p.add_argument("--workouts", type=positive_int, help="workouts in all (default 1000000)")
        p.add_argument("--messages", type=positive_int, help="messages in all (default 1000000)")

    bench_parser = command(
        "bench",
        "measure the hot paths as ratios against their floors",
        "Measure the hot paths (onboarding, RLS reads, chat context, clone, up) as ratios against "
        "plain-SQL floors, on a throwaway server, median of interleaved rounds.",
    )
    scale_options(bench_parser, quick=True)
    bench_parser.add_argument("--quick", action="store_true", help="a small scale that runs in seconds (CI)")
    bench_parser.add_argument("--rounds", type=positive_int, help="rounds per figure (default 5; --quick 3)")
    bench_parser.add_argument(
        "--provider",
        choices=["all", *LOCAL_PROVIDERS],
        default="embedded",
        help="server to measure on; all = every server of the matrix available here, one after another",
    )
    bench_parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    bench_parser.add_argument("--plot", metavar="PATH", help="draw the ratios as a PNG chart")

    gen = command(
        "generate",
        "load the bench dataset into a database that has the schema",
        "Load the bench dataset (users, plans, workouts, messages; set-based SQL) into the database "
        "at --url, which must have the schema (coachdb apply).",
    )
    gen.add_argument("--url", help=f"database URL (default: ${URL_ENV})")
    scale_options(gen, quick=False)

    types = command(
        "types",
        "generate the typed client contract: TypeScript for supabase-js, or Python TypedDicts",
        "Generate the client types from a fresh build of the SQL tree (a throwaway server) and the RPC "
        "contracts in harness/contract/: typescript -> types/database.types.ts, python -> types/database_types.py.",
    )
    types.add_argument("language", choices=["typescript", "python"])
    types.add_argument(
        "--out", help="file to write ('-' for stdout; default: types/database.types.ts or database_types.py)"
    )
    types.add_argument("--check", action="store_true", help="write nothing; exit 1 when the file is stale")
    types.add_argument("--provider", choices=LOCAL_PROVIDERS, default="embedded", help="server for the fresh build")
    types.add_argument("--url", help="read this database's catalog instead of a fresh build (it must have the schema)")

    supa = command(
        "supabase",
        "refresh supabase/ (config, tests, seed, baseline) from the tree",
        "Generate the Supabase CLI project under supabase/ from db/ and tests/sql/: config.toml, the "
        "baseline migrations (only into a project that has none), tests/ for `supabase test db`, seed.sql.",
    )
    supa.add_argument("--check", action="store_true", help="change nothing; exit 1 when supabase/ is stale")
    supa.add_argument(
        "--rebaseline",
        action="store_true",
        help="rewrite the baseline migrations from the tree (only before the first deploy)",
    )

    push_parser = command(
        "push",
        "apply supabase/migrations as `supabase db push` does",
        "Apply the pending migrations of supabase/migrations to --url the way `supabase db push` does: "
        "lexical order, each file one batch in one transaction, a row per file in "
        "supabase_migrations.schema_migrations.",
    )
    push_parser.add_argument("--url", help=f"database URL (default: ${URL_ENV})")
    push_parser.add_argument("--migrations", help="directory of migrations (default: supabase/migrations)")

    diff_parser = command(
        "diff",
        "write the migration from supabase/migrations to the edited tree",
        "Build the state the migrations give and the edited tree on scratch databases, and write the "
        "migration between them (schema-diff engine: results, migra's successor) into "
        "supabase/migrations/, each statement annotated with its lock, rewrite and data-loss risk.",
    )
    diff_parser.add_argument("--name", required=True, help="the migration's name: lowercase, digits, underscores")
    diff_parser.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE.OLD=NEW",
        help="a column renamed in the tree (else the engine drops it and adds a new one)",
    )
    diff_parser.add_argument(
        "--url", help="a server where scratch databases may be created (default: a throwaway embedded one)"
    )
    diff_parser.add_argument("--dry-run", action="store_true", help="print the migration, write nothing")

    test = command(
        "test",
        "run the test suite; other arguments go to pytest",
        "Run the test suite against every server this machine can run (auto), or one, then the "
        "client-facing suites behind pgbouncer; ends with one summary. Other arguments go to pytest.",
    )
    test.add_argument(
        "--provider",
        default="auto",
        choices=["auto", *PROVIDERS],
        help="server to test against; auto = every pass that can run here (embedded, pg17, system, pgbouncer)",
    )
    return parser


def _json_requested(parser: argparse.ArgumentParser, argv: Sequence[str]) -> bool:
    """True when the command line asks for JSON output (a ``--json`` flag, not bench's
    ``--json PATH``), even when the rest of it does not parse."""
    if "--json" not in argv:
        return False
    subcommands = parser.get_default("subcommands")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    sub = subcommands.choices.get(chosen) if subcommands is not None else None
    if sub is None:
        return False
    return any("--json" in a.option_strings and a.nargs == 0 for a in sub._actions)


def _report_error(message: str, as_json: bool, code: int) -> int:
    message = mask_secrets(" ".join(message.split()))  # one line, no password
    if as_json:
        print(json.dumps({"error": message, "exit_code": code}))
    else:
        print(f"coachdb: error: {message}", file=sys.stderr)
    return code


def _connection_hint(args: argparse.Namespace) -> str:
    """What to check when a connection fails, matching where the URL came from."""
    if getattr(args, "url", None):
        return "check the URL given with --url"
    if os.environ.get(URL_ENV):
        return f"check ${URL_ENV}"
    if args.command == "doctor":
        return "start one with `coachdb up`, or pass --url"
    return f"pass --url or set ${URL_ENV}"


def _database_error(exc: psycopg.Error, args: argparse.Namespace) -> str:
    """A database error as one line, with a hint that matches where the URL came from."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, psycopg.OperationalError | psycopg.ProgrammingError) or exc.sqlstate:
        return text
    hint = _connection_hint(args)
    return f"cannot connect to the database: {text} ({hint})"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # psycopg logs "error ignored in rollback ..." when Ctrl-C lands mid-query and its
    # cleanup fails; with no handler, Python printed that to the user's stderr before
    # coachdb's own one line. The interrupt is reported once, by coachdb.
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    parser = build_parser()
    as_json = _json_requested(parser, argv)
    args = argparse.Namespace(command=None)
    try:
        try:
            args, rest = parser.parse_known_args(argv)
        except SystemExit as exit_:  # --help and --version print and exit 0
            return int(exit_.code or 0)
        if rest and args.command != "test":
            args.subcommands.choices[args.command].error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "up":
            return cmd_up(args)
        if args.command == "apply":
            return cmd_apply(args)
        if args.command == "doctor":
            return cmd_doctor(args)
        if args.command == "lint":
            return cmd_lint(args)
        if args.command == "bench":
            return cmd_bench(args)
        if args.command == "generate":
            return cmd_generate(args)
        if args.command == "types":
            return cmd_types(args)
        if args.command == "supabase":
            return cmd_supabase(args)
        if args.command == "push":
            return cmd_push(args)
        if args.command == "diff":
            return cmd_diff(args)
        return cmd_test(args, rest)
    except HarnessError as exc:
        return _report_error(str(exc), as_json, 2)
    except psycopg.Error as exc:
        return _report_error(_database_error(exc, args), as_json, 2)
    except KeyboardInterrupt:
        return _report_error("interrupted", as_json, 130)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _report_error(f"{exc.strerror or exc}{where}", as_json, 2)
    except Exception as exc:
        if os.environ.get("COACHDB_DEBUG"):
            traceback.print_exc()
        return _report_error(
            f"internal error ({type(exc).__name__}: {exc}); COACHDB_DEBUG=1 shows the traceback; please report it",
            as_json,
            2,
        )


if __name__ == "__main__":
    sys.exit(main())
