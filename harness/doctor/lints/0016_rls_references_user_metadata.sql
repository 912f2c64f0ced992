-- rls_references_user_metadata: user_metadata in a JWT is editable by the user it
-- describes, so a policy that trusts it lets users grant themselves access.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'rls_references_user_metadata' as name,
    'ERROR' as level,
    format('%I.%I: %s', n.nspname, c.relname, p.polname) as object,
    'the policy reads user_metadata from the JWT, which the user can change' as detail,
    'base the policy on auth.uid() or app_metadata, never on user_metadata' as remediation
from pg_catalog.pg_policy as p
inner join pg_catalog.pg_class as c on p.polrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
    and (
        coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')
        || ' ' || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')
    ) like '%user_metadata%'
