"""``coachdb doctor`` end to end: connect, pick the mode, repair (``--fix``/``--dry-run``),
diagnose, print one report. Whatever happens, the output is one report (one JSON document
with ``--json``) and the exit code says what it found: 0 clean, 1 an ERROR, 2 doctor could
not run (no connection, or a privilege it needs). No password ever reaches the output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness import SQL_ROOT, repair
from harness.doctor.mode import detect, forced
from harness.doctor.run import Report, describe, examine, header, mask, render_json, render_text


def _one_line(exc: BaseException) -> str:
    """The first line of an error (libpq adds an indented hint line): errors are one line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class Options:
    fix: bool = False
    dry_run: bool = False
    json: bool = False
    mode: str | None = None  # None: detect; "tree" or "generic": forced
    with_drift: bool = True
    root: Path = SQL_ROOT
    connection_hint: str = "start one with `coachdb up`, or pass --url"


def doctor(url: str, options: Options) -> Report:
    """Run doctor on ``url``; never raises for anything the database does."""
    report = Report(describe(url))
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        report.error = mask(f"cannot reach {report.database} ({options.connection_hint}): "
                            f"{_one_line(exc)}", url)  # fmt: skip
        return report
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            report.mode = forced(options.mode) if options.mode else detect(conn)
        if options.fix or options.dry_run:
            outcome = repair.run(
                url, mode=report.mode.name, root=options.root, dry_run=options.dry_run, out=report.repairs.append
            )
            report.repaired = outcome.done
            if options.dry_run:
                report.findings = outcome.problems
                return report
            problems = outcome.problems
        else:
            problems = []
        diagnosed = examine(url, mode=report.mode.name, root=options.root, with_drift=options.with_drift)
        report.findings = problems + diagnosed.findings
    except psycopg.errors.InsufficientPrivilege as exc:
        report.error = mask(f"doctor lacks a privilege it needs on {report.database}: {_one_line(exc)}", url)
    except psycopg.OperationalError as exc:
        report.error = mask(f"lost the connection to {report.database}: {_one_line(exc)}", url)
    except Exception as exc:
        report.error = mask(f"doctor could not run on {report.database}: {type(exc).__name__}: {_one_line(exc)}", url)
    return report


def main(url: str, options: Options, out: Callable[[str], None] = print) -> int:
    """Print the report; with --json one document on stdout whatever happened, otherwise a
    failure is the CLI's usual one line on stderr, ``coachdb: error: ...`` (naming the
    database), after the report's first line if doctor got as far as choosing its mode."""
    report = doctor(url, options)
    if options.json:
        out(render_json(report))
    elif report.error:
        if report.mode:  # it got as far as the mode: say where and how it was looking
            out(header(report))
        print(f"coachdb: error: {report.error}", file=sys.stderr)
    else:
        out(render_text(report))
    return report.exit_code
