"""coachdb's harness: provision PostgreSQL, load the SQL tree, act as a PostgREST request.

Data flows one way: SQL files (`sqltree`) -> `loader` -> a server from `providers` ->
`context` (the request a client makes) -> tests and the CLI.
"""

from pathlib import Path

#: The repository root: the SQL tree lives in ``ROOT / "db"``.
ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT"]
