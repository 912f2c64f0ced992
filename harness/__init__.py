"""coachdb's harness: provision PostgreSQL, load the SQL tree, act as a PostgREST request.

Data flows one way: SQL files (`sqltree`) -> `loader` -> a server from `providers` ->
`context` (the request a client makes) -> tests and the CLI.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

#: The repository root (in a checkout): tests, tools and the Supabase project live here.
ROOT = _PACKAGE.parent

#: The directory that holds the SQL tree ``db/``: the package itself in an installed wheel
#: (setuptools maps ``db/`` to ``harness/db``), the repository root in a checkout or an
#: editable install. Everything that reads SQL files takes its default from here.
SQL_ROOT = _PACKAGE if (_PACKAGE / "db" / "schema").is_dir() else ROOT

__all__ = ["ROOT", "SQL_ROOT"]
