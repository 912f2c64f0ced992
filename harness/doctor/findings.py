"""The one shape every doctor check returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Most severe first. ERROR makes ``coachdb doctor`` exit non-zero.
LEVELS = ("ERROR", "WARN", "INFO")


@dataclass(frozen=True)
class Finding:
    name: str  # the rule, e.g. on_conflict_without_arbiter; greps to its check
    level: str  # ERROR, WARN or INFO
    object: str  # what it is about: a table, a function, a constraint
    detail: str  # what is wrong, in a sentence
    remediation: str  # what to do about it

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
