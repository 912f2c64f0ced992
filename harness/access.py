"""Who can do what, read from the catalog: the rules every exposed table and function must
keep. The isolation matrix runs them on every test run, so a table or function added without
RLS, policies or revokes fails the suite by itself.

The rules themselves are doctor's lint files tagged ``access`` (``harness/doctor/lints/``):
one definition each, which doctor reports and the matrix enforces.
"""

from __future__ import annotations

import psycopg

from harness.doctor import lints
from harness.doctor.findings import Finding

EXPOSED_SCHEMAS = lints.EXPOSED_SCHEMAS
ACCESS = "access"

TABLES = """
select c.oid, format('%%I.%%I', n.nspname, c.relname), c.relrowsecurity
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%s) and c.relkind in ('r', 'p')
order by 2
"""

FUNCTIONS = """
select p.oid, format('%%s.%%s(%%s)', n.nspname, p.proname, replace(oidvectortypes(p.proargtypes), ', ', ',')),
    p.prosecdef, coalesce(p.proconfig, '{}')
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%s)
    and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
order by 2
"""


def exposed_tables(conn: psycopg.Connection, schemas: tuple[str, ...] = EXPOSED_SCHEMAS) -> list[str]:
    return [row[1] for row in conn.execute(TABLES, [list(schemas)]).fetchall()]


def exposed_functions(conn: psycopg.Connection, schemas: tuple[str, ...] = EXPOSED_SCHEMAS) -> list[str]:
    return [row[1] for row in conn.execute(FUNCTIONS, [list(schemas)]).fetchall()]


def access_rules() -> list[lints.Lint]:
    """The lint files the matrix enforces."""
    return [lint for lint in lints.all_lints() if ACCESS in lint.tags]


def problems(conn: psycopg.Connection) -> list[Finding]:
    """Every breach of an access rule on the app's schemas, as doctor would report it."""
    return lints.run(conn, access_rules())
