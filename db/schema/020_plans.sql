-- plans: a user's training plans. At most one is active per user (partial unique index);
-- children reference a plan through (user_id, id) so they can never point at another
-- user's plan.

create table public.plans (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    name text not null,
    goal public.fitness_goal not null,
    status public.plan_status not null default 'draft',
    starts_on date not null,
    weeks smallint not null,
    metadata jsonb not null default '{}'::jsonb,
    activated_at timestamptz,
    archived_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint plans_user_id_id_unique unique (user_id, id),
    constraint plans_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
    constraint plans_name_length check (char_length(name) between 1 and 120),
    constraint plans_weeks_range check (weeks between 1 and 52),
    constraint plans_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);

create unique index plans_one_active_per_user on public.plans (user_id)
where status = 'active';

comment on index public.plans_one_active_per_user is 'At most one active plan per user.';

comment on table public.plans is 'Training plans; at most one active per user.';
comment on column public.plans.id is 'Plan id.';
comment on column public.plans.user_id is 'Owner (auth.users).';
comment on column public.plans.name is 'Plan name, 1-120 characters.';
comment on column public.plans.goal is 'The goal the plan was built for.';
comment on column public.plans.status is 'draft, active, completed or archived.';
comment on column public.plans.starts_on is 'First day of the plan.';
comment on column public.plans.weeks is 'Length of the plan in weeks, 1-52.';
comment on column public.plans.metadata is 'Free-form extras (a JSON object).';
comment on column public.plans.activated_at is 'When the plan last became active.';
comment on column public.plans.archived_at is 'When the plan was archived.';
comment on column public.plans.created_at is 'When the row was created.';
comment on column public.plans.updated_at is 'When the row last changed (trigger).';

create trigger plans_set_updated_at
before update on public.plans
for each row execute function app_private.set_updated_at();

-- Column rules for every write path (the RPCs, a signed-in user's direct update through the
-- column grants, the service role): the same rules the RPCs apply, defined once in
-- db/functions/005_validation.sql. Text is stored trimmed (the trigger trims, as the RPCs
-- do) and a violation is 22023 naming the column, like an RPC's bad input.
create or replace function app_private.plans_column_rules() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.name := app_private.clean_text(new.name, 'name', 1, 120, true);
    new.metadata := app_private.check_json_object(new.metadata, 'metadata');
    return new;
end
$$;

comment on function app_private.plans_column_rules() is
'Trigger: name, metadata of public.plans obey the RPCs'' rules on every write (22023 naming the column).';

revoke all on function app_private.plans_column_rules() from public;

create trigger plans_column_rules
before insert or update of name, metadata on public.plans
for each row execute function app_private.plans_column_rules();
