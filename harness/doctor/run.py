"""Run every doctor check against a live database and render the findings."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from harness import SQL_ROOT
from harness.doctor import arbiters, drift, duplicates, lints, seed_check
from harness.doctor.declared import declared_unique_keys
from harness.doctor.findings import LEVELS, Finding


def diagnose(url: str, *, root: Path = SQL_ROOT, with_drift: bool = True) -> list[Finding]:
    declared = declared_unique_keys(root)
    with psycopg.connect(url, autocommit=True) as conn:
        findings = [
            *arbiters.check(conn, declared),
            *duplicates.check(conn, declared),
            *lints.check(conn),
            *seed_check.check(conn),
        ]
        if with_drift:
            findings += drift.check(conn, url, declared, root)
    return sorted(findings, key=lambda f: (LEVELS.index(f.level), f.name, f.object))


def render_text(findings: list[Finding]) -> str:
    if not findings:
        return "coachdb doctor: no findings; the database matches the SQL tree and keeps every rule"
    lines = []
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


def render_json(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2)
