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


def onboard(client, key: str = "onboard", **plan_overrides: Any) -> dict[str, Any]:
    """Onboard ``client`` through the RPC; returns its response."""
    return client.rpc("finalize_onboarding", idempotency_key=key, profile=profile(), plan=plan(**plan_overrides))


def first_workout(client, plan_id: str) -> str:
    rows = client.execute("select id::text from public.workouts where plan_id = %s order by scheduled_on", [plan_id])
    return rows[0][0]
