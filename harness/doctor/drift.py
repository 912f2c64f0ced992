"""drift_missing_* / drift_extra_* / drift_changed_*: the live database against a reference
built from the SQL tree (its files executed as they are, in a scratch database on the same
server, or on an embedded server when the live one will not let us create a database).

Compared, in the app's schemas: tables, columns, constraints and indexes (the schema: a
difference needs a migration, ``coachdb diff``, and is never "repaired" by dropping), and the
repeatable objects ``coachdb apply`` converges: row level security flags, policies (command,
roles, using, with check), privileges on tables, columns, functions and ``app_private``,
function definitions and settings (``search_path``), triggers, and comments.

Every difference is an ERROR (a grant to ``anon`` or a weakened policy is a security hole),
except objects the tree does not have (an extra table, column, index, function or trigger:
WARN, left alone). ``differences`` is the engine; ``compare`` turns it into findings for
doctor, and ``harness.converge`` into the statements that put the repeatable objects back.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from harness import SQL_ROOT
from harness.doctor.declared import UniqueKey
from harness.doctor.findings import Finding
from harness.execute import load_files
from harness.providers.base import to_url
from harness.sqltree import sql_files

SCHEMAS = ["public", "app_private"]
#: What a reference build loads: the declared state (the stand-in stands for Supabase's auth).
REFERENCE_STAGES = ("standin", "schema", "functions", "policies")

# A privilege as one token: grantee:privilege (* = with grant option); the owner's own
# privileges read "owner", whoever owns the object on this database.
_ACL_TOKENS = """coalesce((select string_agg(distinct
    case when a.grantee = {owner} then 'owner' when a.grantee = 0 then 'public'
         else pg_get_userbyid(a.grantee)::text end
    || ':' || lower(a.privilege_type) || case when a.is_grantable then '*' else '' end, ', ')
    from aclexplode({acl}) a), '')"""

_RELATIONS = """from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p')"""

#: kind -> query returning (name, value, definition); definition is the SQL that creates the
#: object as the reference has it (None where apply never recreates it).
SNAPSHOT = {
    "table": """
        select format('%%I.%%I', n.nspname, c.relname), c.relkind::text, null
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')""",
    "column": """
        select format('%%I.%%I.%%I', n.nspname, c.relname, a.attname),
               format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
               || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), null
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where n.nspname = any(%s) and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped""",
    "constraint": """
        select format('%%I.%%I.%%I', n.nspname, c.relname, k.conname), pg_get_constraintdef(k.oid), null
        from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s)""",
    "index": """
        select format('%%I.%%I', n.nspname, i.relname), pg_get_indexdef(i.oid), null
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
        where n.nspname = any(%s)
            and not exists (select from pg_constraint k where k.conindid = i.oid and k.contype in ('p','u','x'))""",
    "rls": f"""
        select format('%%I.%%I', n.nspname, c.relname),
               concat_ws(', ', case when c.relrowsecurity then 'enabled' else 'disabled' end,
                         case when c.relforcerowsecurity then 'forced' end), null
        {_RELATIONS}""",
    "policy": """
        select format('%%I.%%I: %%s', n.nspname, c.relname, p.polname), d.def, d.def
        from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
        cross join lateral (select format('create policy %%I on %%I.%%I as %%s for %%s to %%s%%s%%s',
            p.polname, n.nspname, c.relname,
            case when p.polpermissive then 'permissive' else 'restrictive' end,
            case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                          when 'd' then 'delete' else 'all' end,
            (select string_agg(case when r = 0 then 'public' else quote_ident(pg_get_userbyid(r)) end, ', '
                               order by 1) from unnest(p.polroles) r),
            coalesce(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')', ''),
            coalesce(' with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')) as def) d
        where n.nspname = any(%s)""",
    "function": """
        select p.oid::regprocedure::text,
               md5(concat_ws(' | ', p.prosrc, p.prosecdef, p.provolatile, p.proisstrict, p.proleakproof,
                             p.proparallel, p.prolang, coalesce(p.proconfig, '{}')::text,
                             pg_get_function_arguments(p.oid), pg_get_function_result(p.oid))),
               pg_get_functiondef(p.oid)
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%s) and p.prokind in ('f', 'p')
            and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')""",
    "trigger": """
        select format('%%I.%%I.%%I', n.nspname, c.relname, t.tgname),
               pg_get_triggerdef(t.oid) || case t.tgenabled when 'D' then ' (disabled)' else '' end,
               pg_get_triggerdef(t.oid)
        from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and not t.tgisinternal""",
    "grant": f"""
        select 'table ' || format('%%I.%%I', n.nspname, c.relname),
               {_ACL_TOKENS.format(owner="c.relowner", acl="coalesce(c.relacl, acldefault('r', c.relowner))")}, null
        {_RELATIONS}
        union all
        select 'column ' || format('%%I.%%I.%%I', n.nspname, c.relname, a.attname),
               {_ACL_TOKENS.format(owner="c.relowner", acl="a.attacl")}, null
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
            and cardinality(a.attacl) > 0
        union all
        select 'function ' || p.oid::regprocedure::text,
               {_ACL_TOKENS.format(owner="p.proowner", acl="coalesce(p.proacl, acldefault('f', p.proowner))")}, null
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%s) and p.prokind in ('f', 'p')
            and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
        union all
        select 'schema ' || quote_ident(n.nspname),
               {_ACL_TOKENS.format(owner="n.nspowner", acl="coalesce(n.nspacl, acldefault('n', n.nspowner))")}, null
        from pg_namespace n where n.nspname = any(%s) and n.nspname <> 'public'""",
    "comment": """
        select 'table ' || format('%%I.%%I', n.nspname, c.relname), d.description,
               format('comment on table %%I.%%I is %%L', n.nspname, c.relname, d.description)
        from pg_description d join pg_class c on d.classoid = 'pg_class'::regclass and d.objoid = c.oid
            and d.objsubid = 0 join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p')
        union all
        select 'column ' || format('%%I.%%I.%%I', n.nspname, c.relname, a.attname), d.description,
               format('comment on column %%I.%%I.%%I is %%L', n.nspname, c.relname, a.attname, d.description)
        from pg_description d join pg_class c on d.classoid = 'pg_class'::regclass and d.objoid = c.oid
            join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid and not a.attisdropped
            join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p') and d.objsubid > 0
        union all
        select 'function ' || p.oid::regprocedure::text, d.description,
               format('comment on function %%s is %%L', p.oid::regprocedure, d.description)
        from pg_description d join pg_proc p on d.classoid = 'pg_proc'::regclass and d.objoid = p.oid
            join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%s)
            and not exists (select from pg_depend x where x.objid = p.oid and x.deptype = 'e')""",
}

#: Kinds a difference in which needs a migration (``coachdb diff``); apply never repairs them.
SCHEMA_KINDS = ("table", "column", "constraint", "index")
#: Kinds ``coachdb apply`` converges to the tree.
REPEATABLE_KINDS = ("rls", "policy", "function", "trigger", "grant", "comment")
#: Objects the tree does not have that are left alone (reported as WARN).
TOLERATED_EXTRA = ("table", "column", "constraint", "index", "function", "trigger", "comment")


@dataclass
class Snapshot:
    """What the catalog says, per kind: {name: value} to compare, and {name: definition}
    where a definition exists to recreate the object."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    definitions: dict[str, dict[str, str]] = field(default_factory=dict)

    def __getitem__(self, kind: str) -> dict[str, str]:
        return self.values[kind]


@dataclass(frozen=True)
class Difference:
    """One object that differs: ``change`` is missing (the tree has it, the live database
    not), extra (the other way round) or changed."""

    kind: str
    name: str
    change: str
    live: str | None
    tree: str | None
    definition: str | None = None  # the tree's SQL for it, where it has one

    @property
    def level(self) -> str:
        return "WARN" if self.change == "extra" and self.kind in TOLERATED_EXTRA else "ERROR"


def function_acl(conn: psycopg.Connection, signature: str) -> str:
    """The privilege tokens of one function now, as the snapshot writes them."""
    acl = _ACL_TOKENS.format(owner="p.proowner", acl="coalesce(p.proacl, acldefault('f', p.proowner))")
    row = conn.execute(f"select {acl} from pg_proc p where p.oid = to_regprocedure(%s)", [signature]).fetchone()
    return row[0] if row else ""


def snapshot(conn: psycopg.Connection) -> Snapshot:
    result = Snapshot()
    with conn.transaction():
        conn.execute("set local search_path = pg_catalog")  # qualify every name in the output
        for kind, query in SNAPSHOT.items():
            rows = conn.execute(query, [SCHEMAS] * len(re.findall(r"(?<!%)%s", query))).fetchall()
            result.values[kind] = {name: value or "" for name, value, _ in rows}
            result.definitions[kind] = {name: definition for name, _, definition in rows if definition}
    return result


@contextlib.contextmanager
def reference_database(live_url: str, root: Path = SQL_ROOT) -> Iterator[str]:
    """A database with the SQL tree's files executed as they are: a scratch one on the live
    server when allowed, else on a throwaway embedded server."""
    name = f"coachdb_doctor_ref_{uuid.uuid4().hex[:8]}"
    params = conninfo_to_dict(live_url)
    try:
        with psycopg.connect(live_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {} template template0").format(sql.Identifier(name)))
    except psycopg.Error:
        from harness.providers import get_provider

        with get_provider("embedded") as server:
            load_files(server.url, root, REFERENCE_STAGES)
            yield server.url
        return
    url = to_url({**params, "dbname": name})
    try:
        load_files(url, root, REFERENCE_STAGES)
        yield url
    finally:
        with psycopg.connect(live_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


_REFERENCES: dict[tuple[str, int], Snapshot] = {}


def tree_digest(root: Path = SQL_ROOT) -> str:
    """One checksum over every file a reference build loads."""
    digest = hashlib.sha256()
    for file in sql_files(root, stages=REFERENCE_STAGES):
        digest.update(f"{file.name}\0{file.checksum}\0".encode())
    return digest.hexdigest()


def reference_snapshot(conn: psycopg.Connection, live_url: str, root: Path = SQL_ROOT) -> Snapshot:
    """The tree's snapshot on this server's major version, built once per process and tree."""
    key = (tree_digest(root), conn.info.server_version // 10000)
    if key not in _REFERENCES:
        with reference_database(live_url, root) as ref_url, psycopg.connect(ref_url, autocommit=True) as ref:
            _REFERENCES[key] = snapshot(ref)
    return _REFERENCES[key]


def _parent(kind: str, name: str) -> tuple[str, str] | None:
    """The table, column or function an entry belongs to (a grant on a column belongs to
    that column, a policy to its table); None for entries that stand on their own."""
    if kind in ("rls", "policy", "trigger"):
        if kind == "policy":
            return "table", name.partition(": ")[0]
        return "table", name.rsplit(".", 1)[0] if kind == "trigger" else name
    if kind in ("grant", "comment"):
        what, _, obj = name.partition(" ")
        return (what, obj) if what in ("table", "column", "function") else None
    if kind in ("column", "constraint"):
        return "table", name.rsplit(".", 1)[0]
    return None


def _has_parent(kind: str, name: str, snap: Snapshot) -> bool:
    parent = _parent(kind, name)
    return parent is None or parent[1] in snap.values[parent[0]]


def differences(reference: Snapshot, live: Snapshot, declared: list[UniqueKey]) -> list[Difference]:
    """Every object that differs between the tree and the live database (the unique keys the
    tree declares are left out: ``missing_unique_constraint`` and the repair own them)."""
    covered = {f"{k.table}.{k.name}" for k in declared}
    covered |= {f"{k.table.split('.')[0]}.{k.name}" for k in declared if k.kind == "index"}
    result = []
    for kind in SNAPSHOT:
        ref, cur = reference.values[kind], live.values[kind]
        definitions = reference.definitions.get(kind, {})
        for name in sorted(ref.keys() - cur.keys()):
            # a grant or comment on a table or column the live database lacks: the missing
            # table or column is the finding, not its parts
            if name not in covered and _has_parent(kind, name, live):
                result.append(Difference(kind, name, "missing", None, ref[name], definitions.get(name)))
        for name in sorted(cur.keys() - ref.keys()):
            # an entry about an object the tree does not have (another team's table) is theirs
            if kind in SCHEMA_KINDS or _has_parent(kind, name, reference):
                result.append(Difference(kind, name, "extra", cur[name], None))
        for name in sorted(ref.keys() & cur.keys()):
            if ref[name] != cur[name] and name not in covered:
                result.append(Difference(kind, name, "changed", cur[name], ref[name], definitions.get(name)))
    return result


def _remediation(d: Difference) -> str:
    if d.kind in SCHEMA_KINDS:
        if d.change == "extra":
            return "add it to db/schema (and its migration, coachdb diff), or drop it if it was a manual experiment"
        if d.kind == "column" and d.change == "missing":
            return (
                "the column's values are gone from this database: restore it from a backup, or write the "
                "migration that adds it back (coachdb diff); apply never repairs this by itself"
            )
        if d.kind == "column":
            return (
                "changing the type back can lose or reject values: write the migration (coachdb diff) and "
                "check the data first; apply never repairs this by itself"
            )
        return "the schema differs from db/schema: write the migration for it (coachdb diff), then coachdb apply"
    if d.change == "extra" and d.level == "WARN":
        return "add it to the SQL tree, or drop it if it was a manual experiment"
    return "coachdb apply --url URL puts it back as the tree has it"


def _detail(d: Difference) -> str:
    if d.change == "missing":
        return f"the SQL tree has {d.kind} {d.name}; the live database does not"
    if d.change == "extra":
        return f"the live database has {d.kind} {d.name}; the SQL tree does not" + (
            f" ({d.live})" if d.kind in ("grant", "policy", "rls") else ""
        )
    if d.kind == "function":
        return f"function {d.name} has a definition (body, settings or signature details) other than the SQL tree's"
    return f"{d.kind} {d.name} differs: live {d.live!r}, tree {d.tree!r}"


def findings_of(diffs: list[Difference]) -> list[Finding]:
    return [Finding(f"drift_{d.change}_{d.kind}", d.level, d.name, _detail(d), _remediation(d)) for d in diffs]


def compare(reference: Snapshot, live: Snapshot, declared: list[UniqueKey]) -> list[Finding]:
    return findings_of(differences(reference, live, declared))


def check(conn: psycopg.Connection, live_url: str, declared: list[UniqueKey], root: Path = SQL_ROOT) -> list[Finding]:
    return compare(reference_snapshot(conn, live_url, root), snapshot(conn), declared)
