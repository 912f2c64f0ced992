"""Providers: one interface; each starts a real server or says why it cannot."""

from __future__ import annotations

import os

import psycopg
import pytest

from harness.errors import ProviderUnavailable
from harness.providers import (
    LOCAL_PROVIDERS,
    MATRIX,
    PROVIDERS,
    ContainerProvider,
    UrlProvider,
    available,
    get_provider,
    unavailable,
)
from harness.providers import _wheel as wheel
from harness.providers.local import SERVICE_USER, is_root


def test_the_run_provider_serves_a_real_server(provider):
    with psycopg.connect(provider.url) as conn:
        assert conn.execute("select current_setting('server_version_num')::int >= 150000").fetchone() == (True,)


@pytest.mark.skipif(not is_root(), reason="only as root does the server run as another user")
def test_as_root_the_server_runs_unprivileged(provider):
    if provider.name not in LOCAL_PROVIDERS:
        pytest.skip(f"{provider.name} does not run a local cluster")
    pid = int((provider.cluster.data_dir / "postmaster.pid").read_text().split()[0])
    uid = os.stat(f"/proc/{pid}").st_uid
    import pwd

    assert pwd.getpwuid(uid).pw_name == SERVICE_USER


@pytest.mark.parametrize("name", LOCAL_PROVIDERS)
def test_a_throwaway_cluster_starts_answers_and_is_removed(name):
    reason = PROVIDERS[name].unavailable_reason()
    if reason:
        pytest.skip(reason)
    provider = get_provider(name)
    provider.start()
    data_dir = provider.cluster.data_dir
    try:
        with psycopg.connect(provider.url, autocommit=True) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        provider.stop()
    assert not data_dir.exists()


def test_container_provider_skips_with_a_reason_without_docker():
    reason = ContainerProvider.unavailable_reason()
    if reason is None:
        pytest.skip("a Docker engine answers here; the container tests run in --provider=container")
    assert "Docker" in reason or "docker" in reason
    with pytest.raises(ProviderUnavailable, match="container provider unavailable"):
        get_provider("container")


def test_url_provider_reaches_an_existing_server(provider, monkeypatch):
    monkeypatch.setenv("COACHDB_DATABASE_URL", provider.url)
    url_provider = get_provider("url")
    url_provider.start()
    assert url_provider.url == provider.url
    assert url_provider.url_for("x").endswith("/x")


def test_url_provider_without_a_url_says_so(monkeypatch):
    monkeypatch.delenv("COACHDB_DATABASE_URL", raising=False)
    with pytest.raises(ProviderUnavailable, match="COACHDB_DATABASE_URL"):
        UrlProvider()


def test_unknown_provider_is_named():
    with pytest.raises(ProviderUnavailable, match="unknown provider 'nope'"):
        get_provider("nope")


def test_the_matrix_names_local_servers_and_available_ones_can_run():
    assert set(MATRIX) <= set(LOCAL_PROVIDERS)
    runnable = available()
    assert runnable == [name for name in MATRIX if name not in unavailable()]
    assert all(PROVIDERS[name].unavailable_reason() is None for name in runnable)


@pytest.mark.parametrize(("name", "major"), [("embedded", 16), ("system", 15), ("pg17", 17)])
def test_each_matrix_server_runs_its_major_with_default_jit(name, major):
    """The matrix is what it says: each server its major, jit on as PostgreSQL ships it."""
    reason = PROVIDERS[name].unavailable_reason()
    if reason:
        pytest.skip(reason)
    with get_provider(name) as server, psycopg.connect(server.url, autocommit=True) as conn:
        version, jit = conn.execute(
            "select current_setting('server_version_num')::int, current_setting('jit')"
        ).fetchone()
    assert version // 10000 == major
    assert jit == "on"


def test_a_missing_wheel_says_how_to_install_it():
    with pytest.raises(ProviderUnavailable, match=r"pip install no-such-postgres"):
        wheel.wheel_install_dir("no_such_postgres_package", "no-such-postgres")
