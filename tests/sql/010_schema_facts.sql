-- Schema facts: the tables, the constraint finalize_onboarding's upsert needs, RLS on every
-- table, the policies by name, and who may execute the onboarding RPC.
begin;
select plan(32);

select tables_are(
    'public',
    array['profiles', 'plans', 'workouts', 'conversations', 'messages', 'idempotency_keys'],
    'public has exactly the six tables of the design'
);

select col_is_unique(
    'public', 'profiles', array['auth_user_id'],
    'profiles.auth_user_id is unique: the arbiter of finalize_onboarding''s on conflict'
);
select ok(
    exists (
        select from pg_constraint
        where conrelid = 'public.profiles'::regclass
            and conname = 'profiles_auth_user_id_unique' and contype = 'u'
    ),
    'the arbiter is the constraint named profiles_auth_user_id_unique'
);
select is_indexed('public', 'plans', array['user_id'], 'plans has an index on its owner');
select index_is_unique(
    'public', 'plans', 'plans_one_active_per_user', 'at most one active plan per user'
);
select col_is_unique(
    'public', 'workouts', array['user_id', 'plan_id', 'scheduled_on'],
    'one workout per plan per day'
);
select fk_ok(
    'public', 'workouts', array['user_id', 'plan_id'],
    'public', 'plans', array['user_id', 'id'],
    'workouts reference their plan through the owner'
);
select fk_ok(
    'public', 'messages', array['user_id', 'conversation_id'],
    'public', 'conversations', array['user_id', 'id'],
    'messages reference their conversation through the owner'
);
select fk_ok(
    'public', 'conversations', array['user_id', 'plan_id'],
    'public', 'plans', array['user_id', 'id'],
    'conversations reference their plan through the owner'
);
select has_pk('public', 'idempotency_keys', 'idempotency_keys has a primary key');
select col_is_pk(
    'public', 'idempotency_keys', array['user_id', 'operation', 'key'],
    'idempotency keys are keyed by (user, operation, key)'
);

-- RLS on every table
select
    ok(
        (
            select relrowsecurity from pg_class
            where oid = ('public.' || t)::regclass
        ),
        t || ' has row level security enabled'
    )
from unnest(array[
        'profiles', 'plans', 'workouts', 'conversations', 'messages', 'idempotency_keys'
    ]) as t;

select policies_are(
    'public', 'profiles',
    array['users can read their own profile', 'users can update their own profile'],
    'profiles policies'
);
select policies_are(
    'public', 'plans',
    array['users can read their own plans', 'users can update their own plans'],
    'plans policies'
);
select policies_are(
    'public', 'workouts', array['users can read their own workouts'], 'workouts policies'
);
select policies_are(
    'public', 'conversations',
    array[
        'users can read their own conversations',
        'users can update their own conversations',
        'users can delete their own conversations'
    ],
    'conversations policies'
);
select policies_are(
    'public', 'messages', array['users can read their own messages'], 'messages policies'
);
select policies_are(
    'public', 'idempotency_keys',
    array['users can read their own idempotency keys'],
    'idempotency_keys policies'
);

-- the onboarding RPC: who may call it, and how it runs
select function_privs_are(
    'public', 'finalize_onboarding', array['text', 'jsonb', 'jsonb'], 'anon', array[]::text[],
    'anon cannot execute finalize_onboarding'
);
select function_privs_are(
    'public', 'finalize_onboarding', array['text', 'jsonb', 'jsonb'], 'authenticated',
    array['EXECUTE'],
    'authenticated can execute finalize_onboarding'
);
select isnt_definer(
    'public', 'finalize_onboarding', array['text', 'jsonb', 'jsonb'],
    'the exposed finalize_onboarding runs as the caller'
);
select is_definer(
    'app_private', 'finalize_onboarding', array['text', 'jsonb', 'jsonb'],
    'its body runs as the owner, outside the exposed schema'
);
select is(
    (
        select array_agg(p.oid::regprocedure::text order by 1)
        from pg_proc as p
        where p.pronamespace in ('public'::regnamespace, 'app_private'::regnamespace)
            and not exists (
                select from pg_depend as d
                where d.objid = p.oid and d.deptype = 'e'
            )
            and not coalesce(
                p.proconfig, '{}'
            ) @> array['search_path=""']
    ),
    null,
    'every function in public and app_private pins search_path to empty'
);
select is(
    (
        select array_agg(c.relname::text order by 1)
        from pg_class as c
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
            and (
                has_table_privilege('anon', c.oid, 'select')
                or has_table_privilege('anon', c.oid, 'insert')
                or has_table_privilege('anon', c.oid, 'update')
                or has_table_privilege('anon', c.oid, 'delete')
            )
    ),
    null,
    'anon has no privilege on any public table'
);
select schema_privs_are(
    'app_private', 'anon', array[]::text[], 'anon cannot even look into app_private'
);
select ok(
    not has_table_privilege('authenticated', 'public.plans', 'insert'),
    'plans are created only through the RPCs'
);
select ok(
    not has_column_privilege('authenticated', 'public.plans', 'status', 'update'),
    'a plan''s status changes only through the RPCs'
);

select * from finish();
rollback;
