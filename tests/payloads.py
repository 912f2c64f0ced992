"""Valid request payloads to start from; tests change one thing at a time."""

from __future__ import annotations

from typing import Any


def profile(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "display_name": "Alice",
        "goal": "endurance",
        "experience": "intermediate",
        "days_per_week": 3,
        "units": "metric",
        "timezone": "Europe/Paris",
    }
    base.update(overrides)
    return base


def plan(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "Base building", "starts_on": "2030-01-07", "weeks": 4}
    base.update(overrides)
    return base
