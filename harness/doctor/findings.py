"""The one shape every doctor check returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Most severe first. ERROR makes ``coachdb doctor`` exit non-zero.
LEVELS = ("ERROR", "WARN", "INFO")

#: The rule a check reports under when it could not run; doctor never crashes instead.
SKIPPED = "check_skipped"


@dataclass(frozen=True)
class Finding:
    name: str  # the rule, e.g. on_conflict_without_arbiter; greps to its check
    level: str  # ERROR, WARN or INFO
    object: str  # what it is about: a table, a function, a constraint
    detail: str  # what is wrong, in a sentence
    remediation: str  # what to do about it

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def skipped(check: str, reason: str) -> Finding:
    """A check that did not run, and why: reported at INFO so the rest of the report stands."""
    return Finding(
        SKIPPED,
        "INFO",
        check,
        f"{check} did not run: {reason}",
        "grant the connecting role what the reason names, or run doctor as the database owner",
    )
