-- duplicate_index: two indexes with the same columns, operator classes, expressions and
-- predicate; every write maintains both and the planner uses one.
-- category: PERFORMANCE
-- modes: tree, generic
select
    'duplicate_index' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    format(
        'identical indexes: %s',
        string_agg(i.indexrelid::regclass::text, ', ' order by i.indexrelid::regclass::text)
    ) as detail,
    'drop all but one of them (keep the one a constraint uses)' as remediation
from pg_catalog.pg_index as i
inner join pg_catalog.pg_class as c on i.indrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
group by
    n.nspname, c.relname, i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text,
    coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
    coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
having count(*) > 1
