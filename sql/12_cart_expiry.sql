-- Reservations expire: a cart holds stock until `expires_at`, which every command that touches
-- the cart moves to now() + CART_TTL_MINUTES. The scheduled release_expired_carts function gives
-- the stock of expired carts back and deletes them; the index is what it scans.
alter table public.carts
  add column if not exists expires_at timestamptz not null default now() + interval '30 minutes';
create index if not exists carts_expires_at_idx on public.carts (expires_at);
