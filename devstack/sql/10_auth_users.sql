-- Development only, applied by devstack after sql/: the users and sessions of the local auth
-- stand-in. A real Supabase project has its own auth.users (GoTrue's), so none of this belongs in
-- sql/. Only the gateway's owner connection touches these tables: the API roles get nothing.

create table if not exists auth.users (
  id                 uuid primary key default gen_random_uuid(),
  email              text not null unique check (email = lower(email) and length(email) <= 320),
  -- scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>: see devstack/gateway/passwords.py
  encrypted_password text not null,
  raw_user_meta_data jsonb not null default '{}'::jsonb,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  last_sign_in_at    timestamptz
);

-- One row per refresh token; only a hash is stored, so a database dump signs nobody in.
-- A session is the chain of tokens that rotated from one sign-in.
create table if not exists auth.refresh_tokens (
  token_hash text primary key,
  user_id    uuid not null references auth.users (id) on delete cascade,
  session_id uuid not null,
  revoked    boolean not null default false,
  created_at timestamptz not null default now()
);
create index if not exists refresh_tokens_user_id_idx on auth.refresh_tokens (user_id);
create index if not exists refresh_tokens_session_id_idx on auth.refresh_tokens (session_id);

alter table auth.users enable row level security;
alter table auth.refresh_tokens enable row level security;
revoke all on table auth.users, auth.refresh_tokens from anon, authenticated, service_role;
