-- idempotency_keys: what an RPC answered for (user, operation, key), so that a retry with
-- the same payload replays the answer and one with another payload is refused (PT409).

create table public.idempotency_keys (
    user_id uuid not null,
    operation text not null,
    key text not null,
    request_hash text not null,
    response jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint idempotency_keys_pkey primary key (user_id, operation, key),
    constraint idempotency_keys_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
    constraint idempotency_keys_key_length check (char_length(key) between 1 and 200),
    constraint idempotency_keys_operation_length check (char_length(operation) between 1 and 63)
);

create index idempotency_keys_created_at_idx on public.idempotency_keys (created_at);

comment on index public.idempotency_keys_created_at_idx is
'Lets purge_idempotency_keys find old keys without a full scan.';

comment on table public.idempotency_keys is
'Responses of idempotent RPCs by (user, operation, key), for replays.';
comment on column public.idempotency_keys.user_id is 'Owner: the caller of the RPC.';
comment on column public.idempotency_keys.operation is 'The RPC the key belongs to.';
comment on column public.idempotency_keys.key is 'The client''s idempotency key, 1-200 characters.';
comment on column public.idempotency_keys.request_hash is
'sha256 of the canonical JSON of the request payload.';
comment on column public.idempotency_keys.response is 'The first response, replayed on retry.';
comment on column public.idempotency_keys.created_at is 'When the key was first used.';
comment on column public.idempotency_keys.updated_at is 'When the row last changed (trigger).';

create trigger idempotency_keys_set_updated_at
before update on public.idempotency_keys
for each row execute function app_private.set_updated_at();
