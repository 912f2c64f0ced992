-- sensitive_columns_exposed: a table the API roles can read, without row level security,
-- with a column whose name says it holds a credential or a personal identifier.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'sensitive_columns_exposed' as name,
    'ERROR' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    format(
        'readable through the API without row level security, with sensitive column(s): %s',
        string_agg(distinct a.attname::text, ', ')
    ) as detail,
    'enable row level security with owner-scoped policies, or move the columns out of the exposed schema'
        as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_attribute as a on c.oid = a.attrelid
inner join pg_catalog.pg_roles as r on r.rolname in ('anon', 'authenticated')
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind in ('r', 'p')
    and not c.relrowsecurity and a.attnum > 0 and not a.attisdropped
    and pg_catalog.has_table_privilege(r.oid, c.oid, 'select')
    and replace(lower(a.attname), '-', '_') in (
        'password', 'passwd', 'secret', 'api_key', 'apikey', 'private_key', 'token', 'access_token',
        'refresh_token', 'session_token', 'otp', 'recovery_code', 'ssn', 'social_security_number',
        'passport_number', 'national_id', 'tax_id', 'credit_card', 'card_number', 'cvv', 'iban',
        'bank_account', 'account_number', 'medical_record', 'health_record'
    )
group by n.nspname, c.relname
