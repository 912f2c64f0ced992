-- policy_roles: coachdb's rule that every policy names its role (to authenticated, or to
-- service_role), so no policy applies to anon or to public by accident.
-- category: SECURITY
-- tags: access
-- modes: tree
select
    'policy_roles' as name,
    'WARN' as level,
    format('%I.%I: %s', n.nspname, c.relname, p.polname) as object,
    format('the policy applies to %s', p.polroles::regrole[]::text) as detail,
    'create the policy ... to authenticated (or to service_role)' as remediation
from pg_catalog.pg_policy as p
inner join pg_catalog.pg_class as c on p.polrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ','))
    and p.polroles::regrole[]::text[] not in (array['authenticated'], array['service_role'])
