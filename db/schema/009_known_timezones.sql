-- IANA time zone names the server knows, copied once from pg_timezone_names.
-- Scanning pg_timezone_names reads the tz database from disk (~10 ms a call); a primary-key
-- lookup here costs microseconds, so validation uses this table instead.

create table app_private.known_timezones (
    name text primary key
);

comment on table app_private.known_timezones is
'IANA time zone names known to the server, for cheap validation of profile.timezone.';
comment on column app_private.known_timezones.name is 'A name from pg_timezone_names.';

insert into app_private.known_timezones (name)
select tz.name from pg_catalog.pg_timezone_names as tz
on conflict (name) do nothing;

revoke all on app_private.known_timezones from public;
