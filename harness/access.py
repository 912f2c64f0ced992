"""Who can do what, read from the catalog: the rules every exposed table and function must
keep, checked on any database. The isolation matrix runs these on every test run, so a
table or function added without RLS, policies or revokes fails the suite by itself.

Each rule returns problems as ``(rule, object, detail)``; rule names follow Supabase's
database advisor where one exists (``rls_disabled_in_public``, ``policy_exists_rls_disabled``,
``rls_enabled_no_policy``, ``auth_rls_initplan``, ``function_search_path_mutable``,
``security_definer_view``/``..._function`` exposure), so a finding greps to its rule.
"""

from __future__ import annotations

from typing import NamedTuple

import psycopg

EXPOSED_SCHEMAS = ("public",)
OWNER_COLUMNS = ("user_id", "auth_user_id")
API_ROLES = ("anon", "authenticated", "service_role")


class Problem(NamedTuple):
    rule: str
    object: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.object}: {self.detail}"


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


def table_problems(conn: psycopg.Connection, schemas: tuple[str, ...] = EXPOSED_SCHEMAS) -> list[Problem]:
    problems: list[Problem] = []
    for oid, name, rls in conn.execute(TABLES, [list(schemas)]).fetchall():
        if not rls:
            problems.append(Problem("rls_disabled_in_public", name, "row level security is off"))
        owner = conn.execute(
            "select attname from pg_attribute where attrelid = %s and attname = any(%s) and not attisdropped",
            [oid, list(OWNER_COLUMNS)],
        ).fetchone()
        if owner is None:
            problems.append(Problem("table_without_owner", name, f"no owner column ({' or '.join(OWNER_COLUMNS)})"))
        for privilege in ("select", "insert", "update", "delete", "truncate", "references", "trigger"):
            if conn.execute("select has_table_privilege('anon', %s, %s)", [oid, privilege]).fetchone()[0]:
                problems.append(Problem("anon_table_privilege", name, f"anon has {privilege}"))
        policies = conn.execute(
            "select polname, polcmd, polroles::regrole[]::text[],"
            " coalesce(pg_get_expr(polqual, polrelid), ''), coalesce(pg_get_expr(polwithcheck, polrelid), '')"
            " from pg_policy where polrelid = %s",
            [oid],
        ).fetchall()
        if rls and not policies:
            problems.append(Problem("rls_enabled_no_policy", name, "RLS is on but no policy exists"))
        commands = {"r": "select", "a": "insert", "w": "update", "d": "delete", "*": "all"}
        covered = set()
        for polname, polcmd, roles, qual, check in policies:
            covered.add(commands[polcmd])
            if roles != ["authenticated"] and roles != ["service_role"]:
                problems.append(Problem("policy_roles", name, f'policy "{polname}" applies to {roles}'))
            for expr in (qual, check):
                if not expr:
                    continue
                if "auth.uid()" in expr and "( SELECT auth.uid()" not in expr:
                    problems.append(Problem("auth_rls_initplan", name, f'policy "{polname}" calls auth.uid() per row'))
                if owner and owner[0] not in expr:
                    problems.append(
                        Problem("policy_not_owner_scoped", name, f'policy "{polname}" does not test {owner[0]}')
                    )
        for privilege in ("select", "insert", "update", "delete"):
            query = "select has_table_privilege('authenticated', %s, %s)"
            params = [oid, privilege]
            if privilege != "delete":  # delete has no column-level form
                query += " or has_any_column_privilege('authenticated', %s, %s)"
                params += [oid, privilege]
            granted = conn.execute(query, params).fetchone()[0]
            if granted and rls and not covered & {privilege, "all"}:
                problems.append(
                    Problem("grant_without_policy", name, f"authenticated may {privilege} but no policy covers it")
                )
    return problems


def function_problems(conn: psycopg.Connection, schemas: tuple[str, ...] = ("public", "app_private")) -> list[Problem]:
    problems: list[Problem] = []
    for oid, signature, definer, config in conn.execute(FUNCTIONS, [list(schemas)]).fetchall():
        if not any(setting.startswith("search_path=") for setting in config):
            problems.append(Problem("function_search_path_mutable", signature, "search_path is not pinned"))
        for role in ("anon", "public"):
            if role == "public":
                executable = conn.execute(
                    "select exists (select from aclexplode(coalesce((select proacl from pg_proc where oid = %s),"
                    " acldefault('f', (select proowner from pg_proc where oid = %s)))) a where a.grantee = 0)",
                    [oid, oid],
                ).fetchone()[0]
            else:
                executable = conn.execute("select has_function_privilege('anon', %s, 'execute')", [oid]).fetchone()[0]
            if executable:
                problems.append(Problem("function_executable_by_" + role, signature, f"{role} may execute it"))
        schema = signature.split(".", 1)[0]
        if definer and schema in EXPOSED_SCHEMAS:
            problems.append(
                Problem("security_definer_in_exposed_schema", signature, "security definer in an exposed schema")
            )
    return problems
