-- The two domain errors besides bad input: PT404 (not found, or not yours: the same
-- answer, so existence never leaks) and PT409 (a state or key that forbids the change).
-- PostgREST turns PTxyz into HTTP xyz.

create or replace function app_private.raise_not_found(p_thing text, p_id uuid) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
    raise exception '% % not found', p_thing, p_id
    using errcode = 'PT404', hint = 'It does not exist, or it belongs to someone else.';
end
$$;

comment on function app_private.raise_not_found(text, uuid) is
'Raises PT404 for a row that does not exist or is not the caller''s.';

create or replace function app_private.raise_conflict(p_field text, p_problem text) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
    raise exception '%: %', p_field, p_problem
    using errcode = 'PT409', column = p_field;
end
$$;

comment on function app_private.raise_conflict(text, text) is
'Raises PT409: the current state forbids the change; the message says why.';

revoke all on function app_private.raise_not_found(text, uuid) from public;
revoke all on function app_private.raise_conflict(text, text) from public;
