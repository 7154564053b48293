-- Idempotency keys: the first completed response to (user, Idempotency-Key), stored in the same
-- transaction as the command's writes, so a retry gets it back instead of applying it twice.
-- A row is only ever committed with its response: a command's claim and its answer share one
-- transaction, and a refusal's answer is inserted whole once the command rolled back.
create table if not exists public.idempotency_keys (
  user_id     uuid not null,
  key         text not null check (key ~ '^[A-Za-z0-9._:-]{1,255}$'),
  -- sha-256 of the caller, the function and the validated body: same key, other body -> 422.
  fingerprint text not null,
  status      integer check (status between 200 and 599),
  -- json, not jsonb: the text is kept as sent, so a replay is byte for byte the first answer.
  response    json,
  created_at  timestamptz not null default now(),
  primary key (user_id, key)
);
-- The sweep deletes keys older than 24 hours.
create index if not exists idempotency_keys_created_at_idx on public.idempotency_keys (created_at);

-- Only the functions use this table: RLS on with no policy, nothing granted to the API roles
-- (Supabase's default privileges would otherwise let anon and authenticated in).
alter table public.idempotency_keys enable row level security;
revoke all on table public.idempotency_keys from anon, authenticated;
