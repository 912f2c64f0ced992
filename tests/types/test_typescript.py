"""The TypeScript types compile as a supabase-js client uses them: ``sample_client.ts`` (valid
calls to every RPC, reads of every answer field, the direct writes the grants allow) passes
``tsc --strict --noEmit``, and every file in ``wrong/`` is refused on the line marked
``// wrong`` and nowhere else. One tsc run checks them all (tsconfig.json)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import contract

HERE = Path(__file__).parent
TSC = HERE / "node_modules" / ".bin" / "tsc"
WRONG = sorted((HERE / "wrong").glob("*.ts"))
DIAGNOSTIC = re.compile(r"^(?P<file>[^(\n]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<text>.*)$")


@pytest.fixture(scope="module")
def diagnostics() -> dict[str, list[tuple[int, str]]]:
    """tsc's errors by file (relative to tests/types), from one run over the project."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed (Debian: apt-get install nodejs npm), so tsc cannot run")
    if not TSC.exists():
        if os.environ.get("CI"):
            pytest.fail("tests/types/node_modules is missing in CI: .ci/run must run `npm ci` in tests/types")
        pytest.skip("TypeScript is not installed here: run `npm ci` in tests/types")
    result = subprocess.run(
        [str(TSC), "-p", ".", "--pretty", "false"], cwd=HERE, capture_output=True, text=True, check=False, timeout=300
    )
    found: dict[str, list[tuple[int, str]]] = {}
    for line in result.stdout.splitlines():
        match = DIAGNOSTIC.match(line)
        key = match["file"] if match else "(tsc)"
        found.setdefault(key, []).append((int(match["line"]) if match else 0, line))
    if result.returncode not in (0, 1, 2):
        pytest.fail(f"tsc did not run: {result.stdout}{result.stderr}")
    return found


def test_sample_client_compiles_strictly(diagnostics):
    problems = {k: v for k, v in diagnostics.items() if not k.startswith("wrong/")}
    assert problems == {}, "\n".join(line for lines in problems.values() for _, line in lines)


def test_sample_client_calls_every_rpc_and_reads_every_answer_field():
    text = (HERE / "sample_client.ts").read_text(encoding="utf-8")
    for rpc in contract.rpc_names():
        assert f'rpc("{rpc}"' in text, f"sample_client.ts never calls {rpc}"
        returns = contract.returns_schema(rpc)
        for field in returns.get("properties", {}):
            assert re.search(rf"\b{field}\b", text), f"sample_client.ts never reads {rpc}'s {field}"


@pytest.mark.parametrize("path", WRONG, ids=[p.stem for p in WRONG])
def test_wrong_call_is_refused_by_the_compiler(diagnostics, path):
    lines = path.read_text(encoding="utf-8").splitlines()
    marked = {i + 1 for i, line in enumerate(lines) if "// wrong" in line and not line.lstrip().startswith("//")}
    assert marked, f"{path.name} marks no line with // wrong"
    errors = diagnostics.get(f"wrong/{path.name}", [])
    assert errors, f"tsc accepts {path.name}: {lines[0]}"
    assert {line for line, _ in errors} <= marked, "\n".join(text for _, text in errors)
