-- Every RPC of the design: it exists in public with its argument types, runs as the
-- caller there (its body is a security definer in app_private), and exactly the roles
-- that need it may execute it.
begin;
select plan(60);

create temporary table rpc (name text, args text[], callers text[]) on commit drop;
insert into rpc values
('finalize_onboarding', '{text,jsonb,jsonb}', '{authenticated}'),
('activate_plan', '{uuid}', '{authenticated}'),
('complete_workout', '{uuid,jsonb}', '{authenticated}'),
('skip_workout', '{uuid,text}', '{authenticated}'),
('start_conversation', '{text,uuid}', '{authenticated}'),
('post_message', '{uuid,uuid,text}', '{authenticated}'),
('get_chat_context', '{uuid,integer}', '{authenticated}'),
('export_my_data', '{}', '{authenticated}'),
('record_assistant_message', '{uuid,text,jsonb,uuid}', '{service_role}'),
('purge_idempotency_keys', '{interval}', '{service_role}');

select has_function('public', name, args, 'public.' || name || ' exists') from rpc;
select isnt_definer('public', name, args, 'public.' || name || ' runs as the caller') from rpc;
select is_definer('app_private', name, args, 'app_private.' || name || ' is its definer body') from rpc;
select function_privs_are(
    'public', name, args, 'anon', array[]::text[], 'anon cannot execute ' || name
) from rpc;
select function_privs_are(
    'public', name, args, 'authenticated',
    case when 'authenticated' = any(callers) then array['EXECUTE'] else array[]::text[] end,
    'authenticated ' || case when 'authenticated' = any(callers) then 'can' else 'cannot' end
    || ' execute ' || name
) from rpc;
select function_privs_are(
    'public', name, args, 'service_role',
    case when 'service_role' = any(callers) then array['EXECUTE'] else array[]::text[] end,
    'service_role ' || case when 'service_role' = any(callers) then 'can' else 'cannot' end
    || ' execute ' || name
) from rpc;

select * from finish();
rollback;
