"""What ``coachdb apply`` will do to one database, step by step, before it does anything.

``coachdb apply --dry-run`` prints this and stops; ``coachdb apply`` prints it and runs it.
Each step names the objects it touches, the lock it takes and on which tables, whether it
rewrites a table and whether it can lose data (from ``harness.locks``), and whether it runs
inside a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.locks import Effect, strongest


@dataclass
class Step:
    """One unit of work: ``kind`` is standin, ledger, backfill, migration, concurrent,
    converge or seed; ``title`` what it is (a file, a migration); ``effects`` its statements'
    effects, where they are known before it runs."""

    kind: str
    title: str
    effects: list[Effect] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def _new_tables(self) -> set[str]:
        return {name for e in self.effects for kind, name in e.creates if kind == "table"}

    def _on_existing(self, effect: Effect) -> list[str]:
        return [t for t in effect.tables if t not in self._new_tables]

    @property
    def lock(self) -> str | None:
        """The strongest lock on a table that exists before the step (new tables block no one)."""
        return strongest([e.lock for e in self.effects if e.transactional and self._on_existing(e)])

    @property
    def tables(self) -> list[str]:
        return sorted({t for e in self.effects if e.lock and e.transactional for t in self._on_existing(e)})

    @property
    def rewrites(self) -> bool:
        return any(e.rewrites for e in self.effects)

    @property
    def data_loss(self) -> bool:
        return any(e.data_loss for e in self.effects)

    @property
    def creates(self) -> list[str]:
        return [f"{kind} {name}" for e in self.effects for kind, name in e.creates]

    def render(self) -> list[str]:
        lines = [f"{self.kind:<10} {self.title}"]
        if self.effects:
            lock = self.lock
            summary = f"lock: {lock} on {', '.join(self.tables)}" if lock else "lock: none on an existing table"
            flags = [f for f, on in (("REWRITES a table", self.rewrites), ("CAN LOSE DATA", self.data_loss)) if on]
            lines.append("           " + "; ".join([summary, *flags]))
            creates = self.creates
            if creates:
                shown = ", ".join(creates[:6]) + (f" and {len(creates) - 6} more" if len(creates) > 6 else "")
                lines.append(f"           creates: {shown}")
            for effect in self.effects:
                if effect.rewrites or effect.data_loss or not effect.transactional or effect.notes:
                    lines.append(f"           - {effect.kind}: {effect.describe()}")
        lines += [f"           {note}" for note in self.notes]
        return lines


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    mode: str = ""  # how apply sees the database: "coachdb database", "new database", ...

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    @property
    def data_loss(self) -> bool:
        return any(s.data_loss for s in self.steps)

    def render(self) -> str:
        lines = [f"plan ({self.mode}): {len(self.steps)} step(s)"]
        for number, step in enumerate(self.steps, start=1):
            first, *rest = step.render()
            lines.append(f"{number:>3}. {first}")
            lines += [f"     {line}" for line in rest]
        return "\n".join(lines)
