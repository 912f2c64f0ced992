"""Run every doctor check of the database's mode and render the report.

Each check runs on its own: one that fails (a privilege the role lacks, an object it cannot
read, a server feature that is missing) is reported as ``check_skipped`` at INFO with the
reason, and the others still run. Only a connection that is lost stops the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from harness import SQL_ROOT
from harness.doctor import arbiters, drift, duplicates, lints, seed_check
from harness.doctor.declared import declared_unique_keys
from harness.doctor.findings import LEVELS, Finding, skipped
from harness.doctor.mode import GENERIC, TREE, Mode, detect, forced
from harness.urls import MASK, mask_secrets

T = TypeVar("T")
DUPLICATES = "duplicates_block_unique_constraint"


def describe(url: str) -> str:
    """Which database, as ``user@host:port/dbname``: never the password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "an unparsable database URL"
    user = params.get("user") or "(default user)"
    return f"{user}@{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params.get('dbname') or user}"


def mask(text: str, url: str) -> str:
    """``text`` with the URL's password (if any) and every password a URL or conninfo in it
    carries replaced by ***: the literal password first (it may appear unquoted in a server
    message), then the shared masking rule (``harness.urls``)."""
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
    return mask_secrets(text.replace(str(password), MASK) if password else text)


@dataclass
class Report:
    """What one doctor run found, on which database, in which mode."""

    database: str
    mode: Mode | None = None
    findings: list[Finding] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)  # the repair SQL, as it ran (or would run)
    repaired: list[str] = field(default_factory=list)  # one line per completed repair
    error: str | None = None  # why doctor could not run at all

    @property
    def exit_code(self) -> int:
        if self.error:
            return 2
        return 1 if any(f.level == "ERROR" for f in self.findings) else 0


def _guarded(conn: psycopg.Connection, findings: list[Finding], check: str, run: Callable[[], list[T]]) -> list[T]:
    """``run()``, or, when it fails, an empty result and ``check`` reported skipped with the
    reason. A lost connection is not a check's failure: it stops doctor."""
    try:
        return run()
    except Exception as exc:
        if conn.broken or conn.closed:
            raise
        reason = f"{exc.sqlstate}: " if isinstance(exc, psycopg.Error) and exc.sqlstate else ""
        findings.append(skipped(check, reason + (str(exc).strip().splitlines() or [type(exc).__name__])[0]))
        return []


def _tree_checks(conn: psycopg.Connection, url: str, root: Path, with_drift: bool) -> list[Finding]:
    """A coachdb database: everything, compared with the SQL tree."""
    findings: list[Finding] = []
    declared = _guarded(conn, findings, "declared_unique_keys", lambda: declared_unique_keys(root))
    missing = _guarded(conn, findings, "on_conflict_without_arbiter", lambda: arbiters.missing(conn))
    findings += [arbiters.finding(u, declared) for u in missing]
    findings += _guarded(conn, findings, "missing_unique_constraint", lambda: duplicates.check(conn, declared))
    covered = {(k.table, frozenset(k.columns)) for k in declared}
    targets = {
        u.key(): u.function
        for u in missing
        if u.columns and not u.expression and (u.table, frozenset(u.columns)) not in covered
    }
    findings += _guarded(conn, findings, DUPLICATES, lambda: duplicates.check_targets(conn, targets))
    findings += _guarded(conn, findings, "advisor_lints", lambda: lints.check(conn, TREE))
    findings += _guarded(conn, findings, "seed_verification", lambda: seed_check.check(conn))
    if with_drift:
        findings += _guarded(conn, findings, "drift", lambda: drift.check(conn, url, declared, root))
    return findings


def _generic_checks(conn: psycopg.Connection) -> list[Finding]:
    """Any database: nothing here knows coachdb's tree, every rule is read off the live catalog."""
    findings: list[Finding] = []
    schemas = lints.app_schemas(conn)
    missing = _guarded(conn, findings, "on_conflict_without_arbiter", lambda: arbiters.missing(conn, schemas))
    findings += [arbiters.finding(u) for u in missing]
    targets = {u.key(): u.function for u in missing if u.columns and not u.expression and not u.constraint}
    findings += _guarded(conn, findings, DUPLICATES, lambda: duplicates.check_targets(conn, targets))
    findings += _guarded(conn, findings, "advisor_lints", lambda: lints.check(conn, GENERIC))
    functions = [u.function for u in missing]
    findings += _guarded(conn, findings, "seed_verification", lambda: seed_check.check_functions(conn, functions))
    return findings


def examine(url: str, *, mode: str | None = None, root: Path = SQL_ROOT, with_drift: bool = True) -> Report:
    """Every check of the database's mode (detected, or forced with ``mode``)."""
    report = Report(describe(url))
    with psycopg.connect(url, autocommit=True, application_name="coachdb doctor") as conn:
        report.mode = forced(mode) if mode else detect(conn)
        if report.mode.name == TREE:
            report.findings = _tree_checks(conn, url, root, with_drift)
        else:
            report.findings = _generic_checks(conn)
    report.findings.sort(key=lambda f: (LEVELS.index(f.level), f.name, f.object))
    return report


def diagnose(url: str, *, root: Path = SQL_ROOT, with_drift: bool = True, mode: str | None = None) -> list[Finding]:
    """The findings alone (what tests and ``coachdb apply`` look at)."""
    return examine(url, mode=mode, root=root, with_drift=with_drift).findings


def header(report: Report) -> str:
    """The report's first line: the mode, why, and the database (no password)."""
    if report.mode is None:
        return f"coachdb doctor: {report.database}"
    return f"coachdb doctor: {report.mode.title} ({report.mode.reason}): {report.database}"


def render_text(report: Report | list[Finding]) -> str:
    if isinstance(report, list):
        report = Report("", findings=report)
    lines = [header(report)] if report.database else []
    if report.error:
        return "\n".join([*lines, f"coachdb doctor: error: {report.error}"])
    lines += report.repairs
    lines += [f"-- {line}" for line in report.repaired]
    findings = report.findings
    if not findings:
        lines.append("coachdb doctor: no findings")
        return "\n".join(lines)
    for level in LEVELS:
        group = [f for f in findings if f.level == level]
        if not group:
            continue
        lines.append(f"{level} ({len(group)})")
        for f in group:
            lines.append(f"  {f.name}: {f.object}")
            lines.append(f"      {f.detail}")
            lines.append(f"      fix: {f.remediation}")
    counts = ", ".join(f"{sum(f.level == lv for f in findings)} {lv.lower()}" for lv in LEVELS)
    lines.append(f"coachdb doctor: {counts}")
    return "\n".join(lines)


def render_json(report: Report | list[Finding]) -> str:
    if isinstance(report, list):
        report = Report("", findings=report)
    return json.dumps(
        {
            "database": report.database,
            "mode": report.mode.title if report.mode else None,
            "mode_reason": report.mode.reason if report.mode else None,
            "exit_code": report.exit_code,
            "error": report.error,
            "summary": {level: sum(f.level == level for f in report.findings) for level in LEVELS},
            "findings": [f.as_dict() for f in report.findings],
            "repairs": {"statements": report.repairs, "done": report.repaired},
        },
        indent=2,
    )
