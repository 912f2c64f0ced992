-- coachr: a Supabase project that keeps its tables in their own schema "app", with no
-- timestamps on members at all (so the survivor is the greatest primary key), a procedure
-- that upserts through its pinned search_path, a child with two foreign keys to the same
-- parent, a child unique key that includes the re-pointed column, and an exclusion
-- constraint "one primary goal per member".

create schema app;
grant usage on schema app to authenticated;

create table app.member (
    member_uuid uuid primary key default gen_random_uuid(),
    owner_id    uuid not null,
    email       text not null,
    tier        text not null default 'free'
);

create table app.goal (
    id          serial primary key,
    member_uuid uuid not null references app.member on delete cascade,
    label       text not null,
    is_primary  boolean not null default false,
    constraint goal_one_primary_per_member exclude using btree (member_uuid with =) where (is_primary)
);

create table app.checkin (
    id          bigserial primary key,
    member_uuid uuid not null references app.member (member_uuid),
    goal_id     int references app.goal (id),
    day         date not null,
    mood        smallint,
    constraint checkin_member_day_key unique (member_uuid, day)
);

create table app.coach_note (
    id             bigserial primary key,
    author_member  uuid references app.member (member_uuid),
    subject_member uuid not null references app.member (member_uuid),
    body           text not null
);

alter table app.member enable row level security;
create policy member_self on app.member for select to authenticated using (owner_id = (select auth.uid()));
grant select on app.member to authenticated;
grant insert on app.member to authenticated;

-- the bug, in a procedure that reaches its table through the pinned search_path
create procedure app.join_member(p_email text)
language plpgsql
set search_path = app
as $$
begin
    if auth.uid() is null then
        raise exception 'sign in first' using errcode = '42501';
    end if;
    insert into member (owner_id, email)
    values (auth.uid(), p_email)
    on conflict (owner_id) do nothing;
end
$$;
grant execute on procedure app.join_member(text) to authenticated;

-- legitimate: the constraint is there
create function app.record_checkin(p_member uuid, p_day date, p_mood smallint) returns void
language plpgsql
set search_path = app
as $$
begin
    insert into checkin (member_uuid, day, mood) values (p_member, p_day, p_mood)
    on conflict on constraint checkin_member_day_key do update set mood = excluded.mood;
end
$$;
