-- The data model's column names are part of the contract (PostgREST clients select them).
begin;
select plan(6);

select columns_are('public', 'profiles', array[
    'id', 'auth_user_id', 'display_name', 'goal', 'experience', 'days_per_week', 'units',
    'timezone', 'metadata', 'onboarded_at', 'created_at', 'updated_at'
], 'profiles columns');
select columns_are('public', 'plans', array[
    'id', 'user_id', 'name', 'goal', 'status', 'starts_on', 'weeks', 'metadata',
    'activated_at', 'archived_at', 'created_at', 'updated_at'
], 'plans columns');
select columns_are('public', 'workouts', array[
    'id', 'user_id', 'plan_id', 'scheduled_on', 'kind', 'title', 'targets', 'status', 'result',
    'completed_at', 'skipped_at', 'skip_reason', 'created_at', 'updated_at'
], 'workouts columns');
select columns_are('public', 'conversations', array[
    'id', 'user_id', 'plan_id', 'title', 'last_message_at', 'created_at', 'updated_at'
], 'conversations columns');
select columns_are('public', 'messages', array[
    'id', 'user_id', 'conversation_id', 'role', 'content', 'metadata', 'client_message_id',
    'reply_to', 'created_at', 'updated_at'
], 'messages columns');
select columns_are('public', 'idempotency_keys', array[
    'user_id', 'operation', 'key', 'request_hash', 'response', 'created_at', 'updated_at'
], 'idempotency_keys columns');

select * from finish();
rollback;
