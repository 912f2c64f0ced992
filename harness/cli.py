"""The ``coachdb`` command: ``up``, ``apply``, ``doctor``, ``lint``, ``bench``, ``generate``, ``test``.

Every failure the harness expects (a server that will not start, a SQL file that does not
apply, a database that cannot be reached) ends as one line, ``coachdb: error: ...``, and a
non-zero exit; never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
from psycopg import sql

from harness import ROOT, bench
from harness.doctor import diagnose, render_json, render_text
from harness.errors import HarnessError, ProviderUnavailable
from harness.generate import Scale, generate
from harness.lint import run as run_lint
from harness.loader import apply
from harness.pooler import find_pgbouncer
from harness.providers import LOCAL_PROVIDERS, MATRIX, PROVIDERS, available, get_provider
from harness.providers._binaries import BinariesProvider
from harness.providers.local import is_root
from harness.providers.url import URL_ENV
from harness.repair import run_repairs

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
    data_dir = Path(args.data_dir).expanduser().resolve()
    if args.reset and data_dir.exists():
        import shutil

        shutil.rmtree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    provider = get_provider(args.provider, data_dir=data_dir, port=args.port)
    assert isinstance(provider, BinariesProvider)
    provider.start()
    stopped = threading.Event()
    try:
        _ensure_database(provider.url, DEMO_DATABASE)
        url = provider.url_for(DEMO_DATABASE)
        report = apply(url, seed=True)
        psql = provider.cluster.bin_dir / "psql"
        print(
            f"coachdb is up: {provider.describe()}, schema and demo data loaded ({report.summary()})\n"
            f"  data directory: {data_dir}\n"
            f"  connect:        {url}\n"
            f"  as demo user Ada, the way PostgREST does it:\n"
            f"    {psql} '{url}' -c \"begin; select set_config('role', 'authenticated', true),"
            f" set_config('request.jwt.claims', json_build_object('sub', '{DEMO_USER}')::text, true);"
            f' select name, status, starts_on from plans; commit;"\n'
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopped.set())
        while not stopped.wait(1):
            if not provider.cluster.running:
                print("coachdb: error: the server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        provider.stop()
    print("coachdb: stopped", flush=True)
    return 0


# -- apply --------------------------------------------------------------------------------------


def cmd_apply(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get(URL_ENV)
    if not url:
        raise HarnessError(f"apply needs a database: --url URL or {URL_ENV}")
    report = apply(url, seed=args.seed)
    for name in report.applied:
        print(f"applied   {name}")
    print(report.summary())
    repaired = run_repairs(url, out=lambda line: print(f"repair    {line}"))
    if repaired:
        print(f"{repaired} missing unique key(s) restored (merged rows kept in coachdb_meta.merged_rows)")
    return 0


# -- doctor and lint -------------------------------------------------------------------------


def default_url() -> str:
    """The database to diagnose: --url, $COACHDB_DATABASE_URL, else the one `coachdb up` serves."""
    return os.environ.get(URL_ENV) or f"postgresql://postgres@127.0.0.1:{DEFAULT_PORT}/{DEMO_DATABASE}"


def cmd_doctor(args: argparse.Namespace) -> int:
    url = args.url or default_url()
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        raise HarnessError(f"cannot reach {url} (start one with `coachdb up`, or pass --url): {exc}") from exc
    if args.fix or args.dry_run:
        count = run_repairs(url, dry_run=args.dry_run)
        verb = "would restore" if args.dry_run else "restored"
        print(f"-- {verb} {count} unique key(s)")
        if args.dry_run:
            return 0
    findings = diagnose(url, with_drift=not args.no_drift)
    print(render_json(findings) if args.json else render_text(findings))
    return 1 if any(f.level == "ERROR" for f in findings) else 0


def cmd_lint(args: argparse.Namespace) -> int:
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


# -- test ---------------------------------------------------------------------------------------


def test_providers(choice: str) -> list[str]:
    """``auto``: every server of the matrix that can run here without configuration
    (``harness.providers.MATRIX``); otherwise the one named."""
    if choice != "auto":
        return [choice]
    return available(MATRIX)


#: What the pooler pass runs again behind pgbouncer: everything a client does.
POOLED_SUITES = ["tests/contract", "tests/isolation", "tests/reliability"]


def test_passes(choice: str, pytest_args: list[str]) -> list[tuple[str, list[str]]]:
    """(label, pytest arguments) for each pass. ``auto`` runs the whole suite on every
    provider that can run here, then, where pgbouncer is installed and no pytest arguments
    narrow the run, the client-facing suites again behind pgbouncer in transaction mode."""
    passes = [(f"provider {name}", [f"--provider={name}", *pytest_args]) for name in test_providers(choice)]
    if choice == "auto" and passes and not pytest_args:
        try:
            find_pgbouncer()
        except ProviderUnavailable:
            pass
        else:
            first = passes[-1][1][0]
            passes.append((f"{passes[-1][0]} behind pgbouncer", [first, "--pooler", *POOLED_SUITES]))
    return passes


def cmd_test(args: argparse.Namespace, pytest_args: list[str]) -> int:
    passes = test_passes(args.provider, pytest_args)
    if not passes:
        raise HarnessError("no provider can run here: pip install pgserver, or apt-get install postgresql-15")
    worst = 0
    for label, arguments in passes:
        print(f"=== coachdb test: {label} ===", flush=True)
        code = subprocess.run([sys.executable, "-m", "pytest", *arguments], cwd=ROOT, check=False).returncode
        worst = worst or code
    return worst


# -- entry point --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coachdb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start a local server with the schema and demo data")
    up.add_argument("--data-dir", default=str(default_data_dir()), help="cluster directory (default: %(default)s)")
    up.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port on 127.0.0.1 (default: %(default)s)")
    up.add_argument("--provider", choices=LOCAL_PROVIDERS, default="embedded")
    up.add_argument("--reset", action="store_true", help="delete the data directory first")

    ap = sub.add_parser("apply", help="load the SQL tree into an existing database, idempotently")
    ap.add_argument("--url", help=f"database URL (default: ${URL_ENV})")
    ap.add_argument("--seed", action="store_true", help="also load the demo data (never on production)")

    doctor = sub.add_parser("doctor", help="diagnose a live database against the SQL tree; --fix repairs it")
    doctor.add_argument("--url", help=f"database URL (default: ${URL_ENV}, else the `coachdb up` server)")
    doctor.add_argument("--json", action="store_true", help="findings as JSON")
    doctor.add_argument("--fix", action="store_true", help="restore missing unique keys, merging duplicates")
    doctor.add_argument("--dry-run", action="store_true", help="print the repair SQL, change nothing")
    doctor.add_argument("--no-drift", action="store_true", help="skip the comparison with a reference build")

    sub.add_parser("lint", help="sqlfluff on the SQL, plpgsql_check on every function")

    def scale_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--users", type=int, help="users to generate (default 10000; --quick 500)")
        p.add_argument("--workouts", type=int, help="workouts in all (default 1000000)")
        p.add_argument("--messages", type=int, help="messages in all (default 1000000)")

    bench_parser = sub.add_parser("bench", help="measure the hot paths as ratios against their floors")
    scale_options(bench_parser)
    bench_parser.add_argument("--quick", action="store_true", help="a small scale that runs in seconds (CI)")
    bench_parser.add_argument("--rounds", type=int, help="rounds per figure (default 5; --quick 3)")
    bench_parser.add_argument(
        "--provider",
        choices=["all", *LOCAL_PROVIDERS],
        default="embedded",
        help="server to measure on; all = every server of the matrix available here, one after another",
    )
    bench_parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    bench_parser.add_argument("--plot", metavar="PATH", help="draw the ratios as a PNG chart")

    gen = sub.add_parser("generate", help="load the bench dataset into a database that has the schema")
    gen.add_argument("--url", help=f"database URL (default: ${URL_ENV})")
    scale_options(gen)

    test = sub.add_parser("test", help="run the test suite; other arguments go to pytest")
    test.add_argument(
        "--provider",
        default="auto",
        choices=["auto", *PROVIDERS],
        help="server to test against; auto = every server of the matrix installed here (embedded, pg17, system)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
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
        return cmd_test(args, rest)
    except HarnessError as exc:
        print(f"coachdb: error: {exc}", file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        print(f"coachdb: error: {str(exc).strip()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
