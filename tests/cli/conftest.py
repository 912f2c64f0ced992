"""Fixtures for driving the ``coachdb`` command as a person does: a real process, a data
directory the server's user can own, and a check that no server outlives a test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.providers import LOCAL_PROVIDERS
from harness.providers._binaries import temporary_parent
from harness.providers.local import free_port

COACHDB = [sys.executable, "-m", "harness.cli"]
READY = "Press Ctrl-C"


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COACHDB, *args], capture_output=True, text=True, timeout=300, check=False, **kwargs)


def postmasters_of(data_dir: Path) -> list[int]:
    """Every live postgres process started on ``data_dir`` (from /proc: the truth, not the pid file)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and str(data_dir).encode() in argv:
            found.append(int(entry.name))
    return found


@dataclass
class Up:
    """A ``coachdb up`` process on its own data directory and port."""

    data_dir: Path
    port: int
    provider: str = "embedded"
    proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/coachdb"

    def start(self, *extra: str) -> subprocess.Popen[str]:
        options = ["--provider", self.provider, "--data-dir", str(self.data_dir), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*COACHDB, "up", *options, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return self.proc

    def wait_ready(self, timeout: float = 120) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        lines = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith(READY):
                return "".join(lines)
        raise AssertionError("coachdb up never became ready: " + "".join(lines) + self.proc.stderr.read())

    def interrupt(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        assert self.proc is not None
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=120)
        return self.proc.returncode, out, err


@pytest.fixture
def local_provider(request: pytest.FixtureRequest) -> str:
    name = request.config.getoption("--provider")
    if name not in LOCAL_PROVIDERS:
        pytest.skip(f"coachdb up runs a local cluster ({', '.join(LOCAL_PROVIDERS)}), not the {name} provider")
    from harness.providers import PROVIDERS

    reason = PROVIDERS[name].unavailable_reason()
    if reason:
        pytest.skip(reason)
    return name


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory the server's user can own a data directory in (as root too)."""
    parent = temporary_parent()
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def make_up(local_provider: str, scratch: Path) -> Iterator:
    """``make_up(name)``: an ``Up`` on ``scratch/name``; every process and server is gone after."""
    made: list[Up] = []

    def _make(name: str = "data", port: int | None = None) -> Up:
        up = Up(scratch / name, port or free_port(), provider=local_provider)
        made.append(up)
        return up

    yield _make
    for up in made:
        if up.proc is not None and up.proc.poll() is None:
            up.proc.kill()
            up.proc.wait()
        for pid in postmasters_of(up.data_dir):
            os.kill(pid, signal.SIGQUIT)
