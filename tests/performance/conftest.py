"""The performance suites' shared dataset: generated once per module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.databases import DatabaseFactory
from harness.generate import Scale, generate

#: Big enough that a missing index or a per-row auth.uid() shows in the plan, small enough
#: to generate in seconds on each server of the matrix.
SCALE = Scale(2_000, 200_000, 200_000)


@pytest.fixture(scope="package")
def dataset(databases: DatabaseFactory) -> Iterator[str]:
    """A clone of the template with the generated dataset loaded and analyzed."""
    url = databases.clone("coachdb_performance")
    generate(url, SCALE)
    yield url
    databases.drop("coachdb_performance")
