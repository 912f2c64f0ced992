"""Run a pgbench script against a server and read back how long its transactions took.

The write figures of ``coachdb bench`` are driven by pgbench, PostgreSQL's own load
generator, rather than by Python threads: with eight psycopg clients in one interpreter the
GIL made the client the bottleneck, so a figure measured psycopg's cost per statement more
than the database's (an RPC request has one statement more than its floor, the request
context, and that statement alone cost the ratio 0.36 in Python). pgbench is C, ships with
every server of the matrix, and sends each statement as PostgREST does: prepared, one round
trip each, inside ``begin``/``commit``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.errors import HarnessError
from harness.urls import mask_secrets

PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)


def binary(bin_dir: Path | None) -> Path:
    """The server's own pgbench (every server of the matrix ships one), else the PATH's."""
    candidates = [bin_dir / "pgbench"] if bin_dir else []
    if found := shutil.which("pgbench"):
        candidates.append(Path(found))
    for path in candidates:
        if path.exists():
            return path
    raise HarnessError("no pgbench beside the server's binaries or on PATH: the write figures need it")


def run(
    pgbench: Path,
    conninfo: str,
    script: str,
    clients: int,
    transactions: int,
    variables: dict[str, int],
    warmup: int = 0,
) -> list[float]:
    """Run ``script`` ``warmup + transactions`` times on each of ``clients`` connections
    (prepared statements, threads up to the cores) and return the latencies, in seconds, of
    each client's transactions after its first ``warmup``.

    The first transactions of a new connection pay for it (plpgsql compiling each function,
    catalog caches filling, the first five executions of each statement planned custom): a
    pooler such as PostgREST's keeps its connections, so those are left out. Any failed or
    missing transaction is an error: a figure must not silently count calls that did nothing."""
    with tempfile.TemporaryDirectory(prefix="coachdb-pgbench-") as folder:
        path = Path(folder) / "script.sql"
        path.write_text(script)
        command = [
            str(pgbench),
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            f"--jobs={min(clients, os.cpu_count() or 1)}",
            f"--transactions={warmup + transactions}",
            f"--file={path}",
            "--log",
            f"--log-prefix={Path(folder) / 'log'}",
            *(f"--define={name}={value}" for name, value in variables.items()),
            conninfo,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=folder)
        processed = PROCESSED.search(done.stdout)
        expected = clients * (warmup + transactions)
        if done.returncode != 0 or not processed or int(processed.group(1)) != expected:
            lines = done.stderr.strip().splitlines() or ["no output"]
            detail = next((line for line in lines if "ERROR:" in line), lines[-1])
            raise HarnessError(f"pgbench failed (exit {done.returncode}): {mask_secrets(detail)}")
        per_client: dict[int, list[tuple[int, float]]] = {}
        for log in Path(folder).glob("log.*"):
            for line in log.read_text().splitlines():
                # client_id transaction_no latency_us script_no epoch_s epoch_us
                client, number, latency, *_ = line.split()
                per_client.setdefault(int(client), []).append((int(number), int(latency) / 1e6))
    latencies = [latency for logged in per_client.values() for _, latency in sorted(logged)[warmup:]]
    if len(latencies) != clients * transactions:
        raise HarnessError(f"pgbench logged {len(latencies)} transactions, not {clients * transactions}")
    return latencies
