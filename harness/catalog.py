"""A snapshot of everything the app's SQL defines, read from the live catalog, so that two
databases built two ways (``coachdb apply`` and ``supabase db push``; a migration applied to
the old tree and a fresh build of the new one) can be compared object by object.

Doctor's drift snapshot (``harness.doctor.drift``) answers "is the live database missing
what the tree declares"; this one answers "are these two databases the same", so it also
covers what drift leaves out: RLS flags, grants on tables, columns, functions and schemas,
function settings and ACLs, triggers, comments, enum labels, sequences and default
privileges. Every value is rendered by PostgreSQL itself (``pg_get_*def``, ``format_type``,
``aclitem``), never rebuilt in Python.
"""

from __future__ import annotations

import psycopg

#: The schemas the app owns; Supabase's (auth, extensions, storage ...) are not compared.
APP_SCHEMAS = ("public", "app_private")

_RELATION = "c.relnamespace = any(%(schemas)s::regnamespace[])"

QUERIES: dict[str, str] = {
    "schema": """
        select n.nspname, concat_ws(' | ', pg_get_userbyid(n.nspowner),
               (select array_agg(a order by a::text) from unnest(n.nspacl) a)::text,
               obj_description(n.oid, 'pg_namespace'))
        from pg_namespace n where n.nspname = any(%(names)s)""",
    "type": """
        select format('%%I.%%I', n.nspname, t.typname), concat_ws(' | ', t.typtype,
               (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid),
               obj_description(t.oid, 'pg_type'))
        from pg_type t join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = any(%(names)s) and t.typtype in ('e', 'd', 'c')
            and not exists (select from pg_class c where c.oid = t.typrelid and c.relkind <> 'c')""",
    "table": f"""
        select c.oid::regclass::text, concat_ws(' | ', c.relkind, pg_get_userbyid(c.relowner),
               'rls=' || c.relrowsecurity, 'force=' || c.relforcerowsecurity,
               (select array_agg(a order by a::text) from unnest(c.relacl) a)::text,
               obj_description(c.oid, 'pg_class'))
        from pg_class c where {_RELATION} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')""",
    "column": f"""
        select c.oid::regclass::text || '.' || quote_ident(a.attname),
               concat_ws(' | ', format_type(a.atttypid, a.atttypmod),
                         case when a.attnotnull then 'not null' end,
                         'default ' || pg_get_expr(d.adbin, d.adrelid),
                         nullif(a.attidentity, '') , nullif(a.attgenerated, ''),
                         case when a.attcollation <> t.typcollation then 'collate ' || a.attcollation::regcollation end,
                         (select array_agg(x order by x::text) from unnest(a.attacl) x)::text,
                         col_description(c.oid, a.attnum))
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_type t on t.oid = a.atttypid
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where {_RELATION} and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped""",
    "constraint": f"""
        select k.conrelid::regclass::text || ': ' || k.conname,
               concat_ws(' | ', pg_get_constraintdef(k.oid), 'deferrable=' || k.condeferrable,
                         'valid=' || k.convalidated, obj_description(k.oid, 'pg_constraint'))
        from pg_constraint k join pg_class c on c.oid = k.conrelid where {_RELATION}""",
    "index": f"""
        select i.oid::regclass::text, concat_ws(' | ', pg_get_indexdef(i.oid), 'valid=' || x.indisvalid,
                                               obj_description(i.oid, 'pg_class'))
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
        where {_RELATION}""",
    "policy": f"""
        select p.polrelid::regclass::text || ': ' || p.polname,
               concat_ws(' | ', p.polcmd, case when p.polpermissive then 'permissive' else 'restrictive' end,
                         (select array_agg(r::regrole::text order by r::regrole::text) from unnest(p.polroles) r)::text,
                         'using ' || pg_get_expr(p.polqual, p.polrelid),
                         'check ' || pg_get_expr(p.polwithcheck, p.polrelid),
                         obj_description(p.oid, 'pg_policy'))
        from pg_policy p join pg_class c on c.oid = p.polrelid where {_RELATION}""",
    "trigger": f"""
        select t.tgrelid::regclass::text || ': ' || t.tgname,
               concat_ws(' | ', pg_get_triggerdef(t.oid), t.tgenabled, obj_description(t.oid, 'pg_trigger'))
        from pg_trigger t join pg_class c on c.oid = t.tgrelid where {_RELATION} and not t.tgisinternal""",
    "function": """
        select p.oid::regprocedure::text,
               concat_ws(' | ', pg_get_userbyid(p.proowner), md5(pg_get_functiondef(p.oid)),
                         'secdef=' || p.prosecdef, p.provolatile, p.proparallel, 'strict=' || p.proisstrict,
                         'leakproof=' || p.proleakproof, coalesce(p.proconfig, '{}')::text,
                         (select array_agg(a order by a::text) from unnest(p.proacl) a)::text,
                         obj_description(p.oid, 'pg_proc'))
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%(names)s) and p.prokind in ('f', 'p', 'w')
            and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')""",
    "default_privilege": """
        select concat_ws(' ', pg_get_userbyid(d.defaclrole), coalesce(n.nspname, '*'), d.defaclobjtype),
               (select array_agg(a order by a::text) from unnest(d.defaclacl) a)::text
        from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace""",
    "extension": """
        select e.extname, n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace""",
}

Snapshot = dict[str, dict[str, str]]


def snapshot(conn: psycopg.Connection, schemas: tuple[str, ...] = APP_SCHEMAS) -> Snapshot:
    """Every object of ``schemas`` by kind: ``{kind: {qualified name: definition}}``.

    Names are rendered with ``search_path`` set to ``pg_catalog`` alone, so every one is
    schema-qualified whatever the session had."""
    present = [s for s in schemas if conn.execute("select to_regnamespace(%s)", [s]).fetchone()[0] is not None]
    params = {"schemas": present, "names": list(schemas)}
    with conn.transaction():
        conn.execute("set local search_path = pg_catalog")
        return {kind: dict(conn.execute(query, params).fetchall()) for kind, query in QUERIES.items()}


def differences(left: Snapshot, right: Snapshot, labels: tuple[str, str] = ("left", "right")) -> list[str]:
    """What differs between two snapshots, one line per object: ``only in left: table
    public.x``, ``changed column public.t.c: <left> != <right>``. Empty when they agree."""
    lines = []
    for kind in QUERIES:
        a, b = left.get(kind, {}), right.get(kind, {})
        lines += [f"only in {labels[0]}: {kind} {name} ({a[name]})" for name in sorted(a.keys() - b.keys())]
        lines += [f"only in {labels[1]}: {kind} {name} ({b[name]})" for name in sorted(b.keys() - a.keys())]
        lines += [
            f"changed {kind} {name}: {labels[0]} {a[name]!r} != {labels[1]} {b[name]!r}"
            for name in sorted(a.keys() & b.keys())
            if a[name] != b[name]
        ]
    return lines
