"""``coachdb doctor``: diagnose a live database against the SQL tree.

Each check is one module (or, for the advisor lints, one SQL file under ``lints/``) that
returns findings of one shape, as Supabase's Splinter does: name, level, object, detail,
remediation. ``diagnose`` runs them all; the CLI renders them grouped by level.
"""

from __future__ import annotations

from harness.doctor.findings import LEVELS, Finding
from harness.doctor.run import diagnose, render_json, render_text

__all__ = ["LEVELS", "Finding", "diagnose", "render_json", "render_text"]
