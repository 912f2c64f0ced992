"""The figures for the closing note of issue 10, reproducible: per foreign schema, doctor's
report lines before, the table-by-table row counts before and after ``doctor --fix``, the
audit rows it wrote, and doctor's report lines after.

    .venv/bin/python -m tests.foreign.note [--provider embedded|system]
"""

from __future__ import annotations

import argparse
import json
import re

import psycopg

from harness.databases import DatabaseFactory
from harness.doctor.command import Options, doctor
from harness.doctor.run import render_text
from harness.providers import get_provider
from tests.foreign.conftest import HERE, TEAMS, ForeignDatabase, load


def report_lines(url: str, **options: object) -> list[str]:
    """The report without the repair SQL: the first line, the findings' names and the summary."""
    report = doctor(url, Options(with_drift=False, **options))
    lines = render_text(report).splitlines()
    findings = [line for line in lines[1:] if re.match(r"(ERROR|WARN|INFO) \(|  \S|coachdb doctor: ", line)]
    return [f"(exit {report.exit_code}) {lines[0]}", *[f"-- {line}" for line in report.repaired], *findings]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--provider", default="embedded")
    provider = get_provider(parser.parse_args().provider)
    provider.start()
    try:
        factory = DatabaseFactory(provider)
        for team in TEAMS:
            expected = json.loads((HERE / team / "expected.json").read_text())
            url = factory.create_empty(f"coachdb_note_{team}")
            load(url, team, expected)
            foreign = ForeignDatabase(team, url, expected)
            print(f"## {team}\n### doctor before")
            print("\n".join(report_lines(url)))
            before = foreign.counts()
            print("### doctor --fix")
            print("\n".join(report_lines(url, fix=True)))
            after = foreign.counts()
            print("### rows per table: before -> after")
            for table in before:
                print(f"{table}: {before[table]} -> {after[table]}")
            with psycopg.connect(url) as conn:
                audit = conn.execute(
                    "select action, table_name, count(*) from coachdb_meta.merged_rows group by 1, 2 order by 1, 2"
                ).fetchall()
            print("### audit rows (coachdb_meta.merged_rows)")
            for action, table, count in audit:
                print(f"{action} {table}: {count}")
            print("### doctor after")
            print("\n".join(report_lines(url)))
            factory.drop(f"coachdb_note_{team}")
    finally:
        provider.stop()


if __name__ == "__main__":
    main()
