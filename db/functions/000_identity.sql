-- Identity and per-user serialisation, shared by every RPC.
-- Identity comes from auth.uid() alone; a missing, malformed or unknown subject is 42501.

create or replace function app_private.current_user_id() returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
    v_uid uuid;
begin
    begin
        v_uid := auth.uid();
    exception when invalid_text_representation then
        raise exception 'not signed in: the JWT sub claim is not a user id'
        using errcode = '42501';
    end;
    if v_uid is null then
        raise exception 'not signed in: this call needs an authenticated user'
        using errcode = '42501';
    end if;
    if not exists (select from auth.users as u where u.id = v_uid) then
        raise exception 'not signed in: the JWT subject is not a known user'
        using errcode = '42501';
    end if;
    return v_uid;
end
$$;

comment on function app_private.current_user_id() is
'The caller''s user id from auth.uid(); raises 42501 when there is none or it is unknown.';

-- plpgsql, not sql: a `language sql` function with a SET clause is never inlined, so its body
-- was parsed and planned on every call (a quarter of complete_workout's own time in the server);
-- plpgsql keeps the plan for the session.
create or replace function app_private.lock_user(p_user_id uuid) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('coachdb.user:' || p_user_id::text, 0)
    );
end
$$;

comment on function app_private.lock_user(uuid) is
'Serialises one user''s writes: a transaction-level advisory lock, safe behind a pooler.';

create or replace function app_private.require_service_role(p_operation text) returns void
language plpgsql stable
set search_path = ''
as $$
begin
    if auth.role() is distinct from 'service_role' then
        raise exception '% is for the service role (the AI service) only', p_operation
        using errcode = '42501';
    end if;
end
$$;

comment on function app_private.require_service_role(text) is
'Raises 42501 unless the request''s role claim is service_role; the caller check of service RPCs.';

revoke all on function app_private.current_user_id() from public;
revoke all on function app_private.require_service_role(text) from public;
revoke all on function app_private.lock_user(uuid) from public;
