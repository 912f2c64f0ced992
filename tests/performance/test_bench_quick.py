"""`coachdb bench --quick` end to end: it runs, writes its JSON and chart, and reports every
figure with a median, a spread and (for ratios) a target. No timing is asserted: these
machines are noisy; the numbers are for people to read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_quick_bench_reports_every_figure(tmp_path, request):
    if request.config.getoption("--provider") != "embedded":
        pytest.skip("the bench starts its own embedded server; it runs once, in the embedded pass")
    out, chart = tmp_path / "bench.json", tmp_path / "bench.png"
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "bench", "--quick", "--json", str(out), "--plot", str(chart)],
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
