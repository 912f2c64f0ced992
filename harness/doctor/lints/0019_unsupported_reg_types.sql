-- unsupported_reg_types: columns of reg* types store OIDs that pg_upgrade cannot carry
-- over, so they block a major version upgrade.
-- category: SECURITY
-- modes: tree, generic
select
    'unsupported_reg_types' as name,
    'WARN' as level,
    format('%I.%I.%I', n.nspname, c.relname, a.attname) as object,
    format('column of type %s, which pg_upgrade does not support', a.atttypid::regtype) as detail,
    'store the name as text instead' as remediation
from pg_catalog.pg_attribute as a
inner join pg_catalog.pg_class as c on a.attrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ',')) and c.relkind in ('r', 'p', 'm')
    and a.attnum > 0 and not a.attisdropped
    and a.atttypid in (
        'regcollation'::regtype, 'regconfig'::regtype, 'regdictionary'::regtype, 'regnamespace'::regtype,
        'regoper'::regtype, 'regoperator'::regtype, 'regproc'::regtype, 'regprocedure'::regtype
    )
