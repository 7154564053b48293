-- Limits that keep a drop fair (docs/reliability.md, "A drop"):
-- - products.max_per_customer: units of the product a customer may hold in their cart and
--   orders together (null: no limit); shown on the page through product_catalog;
-- - carts.rate_tokens / rate_counted_at: the customer's token bucket (RATE_LIMIT_PER_MINUTE),
--   kept on the row every command locks anyway, so rate limiting costs no statement;
-- - carts.version: bumped by every command that locks the cart. A command compares it with
--   what its statement's snapshot saw: if another command of the same customer committed while
--   this one waited for the cart, rows it merely read (its orders, its other lines) may be
--   stale, and it runs again (shared/adapters/postgres/carts.py).
alter table public.products
  add column if not exists max_per_customer integer check (max_per_customer >= 1);
alter table public.carts
  add column if not exists version bigint not null default 0,
  add column if not exists rate_tokens real,
  add column if not exists rate_counted_at timestamptz;
