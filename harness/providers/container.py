"""A server in a container (e.g. Supabase's Postgres image), via testcontainers, where a
Docker engine answers. Elsewhere it reports why it cannot run, and tests skip with that."""

from __future__ import annotations

import os

from harness.errors import ProviderUnavailable
from harness.providers.base import Provider

IMAGE_ENV = "COACHDB_CONTAINER_IMAGE"
DEFAULT_IMAGE = "postgres:15"


class ContainerProvider(Provider):
    name = "container"

    def __init__(self, image: str | None = None) -> None:
        self.image = image or os.environ.get(IMAGE_ENV, DEFAULT_IMAGE)
        self._container = None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import docker
        except ImportError:
            return "testcontainers/docker is not installed (pip install 'coachdb[container]')"
        try:
            docker.from_env(timeout=3).ping()
        except Exception as exc:
            return f"no Docker engine answers ({type(exc).__name__}: {exc})"
        return None

    def start(self) -> None:
        reason = self.unavailable_reason()
        if reason:
            raise ProviderUnavailable(reason)
        from testcontainers.postgres import PostgresContainer

        self._container = PostgresContainer(self.image, username="postgres", password="postgres")
        self._container.start()

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None

    @property
    def url(self) -> str:
        if self._container is None:
            raise ProviderUnavailable("the container is not started")
        host = self._container.get_container_host_ip()
        port = self._container.get_exposed_port(5432)
        return f"postgresql://postgres:postgres@{host}:{port}/postgres"
