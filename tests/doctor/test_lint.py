"""`coachdb lint` is clean on the shipped tree: sqlfluff finds nothing, and plpgsql_check
(on a throwaway system server with the extension) finds nothing in any function."""

from __future__ import annotations

import pytest

from harness import lint
from harness.errors import ProviderUnavailable


def test_lint_is_clean(request):
    if request.config.getoption("--provider") != "system":
        pytest.skip("coachdb lint starts its own system server (plpgsql_check); it runs once, in the system pass")
    lines: list[str] = []
    try:
        findings = lint.plpgsql_check_findings("system")
    except ProviderUnavailable as exc:
        pytest.skip(str(exc))
    assert findings == []
    assert lint.run(lines.append) == 0, "\n".join(lines)
    assert "plpgsql_check: clean" in lines and "sqlfluff: clean" in lines
