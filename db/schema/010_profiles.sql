-- profiles: one row per user, written by finalize_onboarding.
-- profiles_auth_user_id_unique is the arbiter of finalize_onboarding's
-- `on conflict (auth_user_id)`: without it every sign-up fails with 42P10.

create table public.profiles (
    id uuid primary key default gen_random_uuid(),
    auth_user_id uuid not null,
    display_name text not null,
    goal public.fitness_goal not null,
    experience public.experience_level not null default 'beginner',
    days_per_week smallint not null,
    units public.unit_system not null default 'metric',
    timezone text not null default 'UTC',
    metadata jsonb not null default '{}'::jsonb,
    onboarded_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint profiles_auth_user_id_unique unique (auth_user_id),
    constraint profiles_auth_user_id_fkey foreign key (auth_user_id)
    references auth.users (id) on delete cascade,
    constraint profiles_display_name_length check (char_length(display_name) between 1 and 80),
    constraint profiles_days_per_week_range check (days_per_week between 1 and 7),
    constraint profiles_timezone_length check (char_length(timezone) between 1 and 64),
    constraint profiles_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);

comment on table public.profiles is 'One per user: who they are and how they want to train.';
comment on column public.profiles.id is 'Profile id.';
comment on column public.profiles.auth_user_id is 'Owner: the auth.users row; unique.';
comment on column public.profiles.display_name is 'Name shown in the app, 1-80 characters.';
comment on column public.profiles.goal is 'What the user trains for.';
comment on column public.profiles.experience is 'Self-declared experience level.';
comment on column public.profiles.days_per_week is 'Training days a week the user wants, 1-7.';
comment on column public.profiles.units is 'Metric or imperial display units.';
comment on column public.profiles.timezone is 'IANA time zone that defines the user''s today.';
comment on column public.profiles.metadata is 'Free-form extras (a JSON object).';
comment on column public.profiles.onboarded_at is 'When the user first finished onboarding.';
comment on column public.profiles.created_at is 'When the row was created.';
comment on column public.profiles.updated_at is 'When the row last changed (trigger).';

create trigger profiles_set_updated_at
before update on public.profiles
for each row execute function app_private.set_updated_at();

-- Column rules for every write path (the RPCs, a signed-in user's direct update through the
-- column grants, the service role): the same rules the RPCs apply, defined once in
-- db/functions/005_validation.sql. Text is stored trimmed (the trigger trims, as the RPCs
-- do) and a violation is 22023 naming the column, like an RPC's bad input.
create or replace function app_private.profiles_column_rules() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.display_name := app_private.clean_text(new.display_name, 'display_name', 1, 80, true);
    new.metadata := app_private.check_json_object(new.metadata, 'metadata');
    if new.experience is null then
        perform app_private.raise_invalid('experience', 'is required');
    end if;
    if new.units is null then
        perform app_private.raise_invalid('units', 'is required');
    end if;
    return new;
end
$$;

comment on function app_private.profiles_column_rules() is
'Trigger: display_name, experience, units, metadata of public.profiles obey the RPCs'' rules on every write (22023 naming the column).';

revoke all on function app_private.profiles_column_rules() from public;

create trigger profiles_column_rules
before insert or update of display_name, experience, units, metadata on public.profiles
for each row execute function app_private.profiles_column_rules();
