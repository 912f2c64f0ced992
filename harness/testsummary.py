"""A pytest plugin for ``coachdb test``: each pass writes what happened to it (passed,
failed, skipped, and why tests were skipped) to the JSON file named by
``$COACHDB_TEST_SUMMARY``, so the command can end with one summary across servers instead
of leaving the reader to scroll through several pytest reports."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pytest is a test extra: `coachdb` itself must import without it
    import pytest

SUMMARY_ENV = "COACHDB_TEST_SUMMARY"

_counts: Counter[str] = Counter()
_skips: Counter[str] = Counter()


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "skipped")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and report.when in ("setup", "call"):
        _counts["skipped"] += 1
        _skips[_skip_reason(report)] += 1
    elif report.failed:
        _counts["failed" if report.when == "call" else "errors"] += 1
    elif report.passed and report.when == "call":
        _counts["passed"] += 1


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _counts["errors"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get(SUMMARY_ENV)
    if path:
        with open(path, "w") as out:
            json.dump({"counts": dict(_counts), "skips": _skips.most_common(), "exitstatus": int(exitstatus)}, out)
