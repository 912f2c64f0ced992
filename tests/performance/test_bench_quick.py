"""`coachdb bench --quick` end to end, on the server of the pass (each server of the matrix in
its own pass): it runs, writes its JSON and chart, and reports every figure with a median, a
spread and (for ratios) a target. No timing is asserted: these machines are noisy; the
numbers are for people to read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness import bench
from harness.providers import LOCAL_PROVIDERS


@pytest.mark.slow
def test_quick_bench_reports_every_figure(tmp_path, request):
    provider = request.config.getoption("--provider")
    if provider not in LOCAL_PROVIDERS:
        pytest.skip(f"the bench starts its own server from binaries; {provider} has none")
    out, chart = tmp_path / "bench.json", tmp_path / "bench.png"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "harness.cli", "bench", "--quick", "--provider", provider),
            *("--json", str(out), "--plot", str(chart)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    names = [f["name"] for f in results["figures"]]
    for rpc in ("finalize_onboarding", "post_message", "complete_workout"):
        assert f"{rpc} cost vs plain-SQL floor" in names
    assert sum(": RLS vs owner" in n for n in names) == 3
    assert any(n.startswith("get_chat_context") for n in names)
    for figure in results["figures"]:
        assert figure["median"] > 0 and len(figure["rounds"]) == 3
        assert figure["spread"] >= 0
    assert {f["target"] for f in results["figures"] if f["unit"] == "x"} == {1.5, 2.0, 1.2}
    assert results["server_settings"]["jit"] == "on"  # the server's default, as users run it
    assert results["generation"]["total"] > 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "meets target" in result.stdout or "MISSES target" in result.stdout


def test_the_matrix_table_has_one_column_per_server():
    figure = {"name": "x vs floor", "unit": "x", "median": 1.2, "spread": 0.1, "target": 1.5, "verdict": "meets target"}
    results = [{"server": name, "figures": [figure]} for name in ("embedded PostgreSQL 16", "pg17 PostgreSQL 17")]
    header, row = bench.render_matrix(results).splitlines()
    assert "embedded PostgreSQL 16" in header and "pg17 PostgreSQL 17" in header
    assert row.count("1.20x") == 2 and "<=1.5" in row
