-- extension_versions_outdated: an installed extension older than the version the server
-- ships misses its fixes until alter extension ... update.
-- category: SECURITY
-- modes: tree, generic
select
    'extension_versions_outdated' as name,
    'WARN' as level,
    e.extname::text as object,
    format('extension %s is at version %s; the server has %s', e.extname, e.extversion, a.default_version)
        as detail,
    format('alter extension %I update', e.extname) as remediation
from pg_catalog.pg_extension as e
inner join pg_catalog.pg_available_extensions as a on e.extname = a.name
where a.default_version is not null and a.default_version <> e.extversion
