"""``coachdb doctor``: diagnose a live database, coachdb's own or any other.

Each check is one module (or, for the advisor lints, one SQL file under ``lints/``) that
returns findings of one shape, as Supabase's Splinter does: name, level, object, detail,
remediation. ``mode.detect`` decides whether the database is coachdb's (compared with the
SQL tree) or any database (generic checks only); ``examine`` runs the checks of the mode;
``command`` is the CLI's doctor end to end.
"""

from __future__ import annotations

from harness.doctor.findings import LEVELS, Finding
from harness.doctor.run import Report, diagnose, examine, render_json, render_text

__all__ = ["LEVELS", "Finding", "Report", "diagnose", "examine", "render_json", "render_text"]
