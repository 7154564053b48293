-- Transactional outbox: checkout writes the OrderPlaced event in the same statement as the order,
-- so an event exists exactly when its order committed. Publishing to the queue happens after
-- commit (checkout itself, then relay-outbox for whatever is left), which marks rows sent.
-- Internal: no API role may read or write it (RLS on, no policy, nothing granted).

create table if not exists public.outbox (
  id             bigint generated always as identity primary key,
  event_type     text   not null check (event_type in ('OrderPlaced')),
  order_id       uuid   not null references public.orders (id) on delete cascade,
  payload        jsonb  not null,
  correlation_id text   not null,
  created_at     timestamptz not null default now(),
  sent_at        timestamptz,
  attempts       integer not null default 0,
  last_error     text,
  unique (order_id, event_type)
);
-- What relay-outbox scans: only pending rows, oldest first.
create index if not exists outbox_pending_idx on public.outbox (id) where sent_at is null;

alter table public.outbox enable row level security;
revoke all on table public.outbox from anon, authenticated;
