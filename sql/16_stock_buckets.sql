-- Stock in buckets (issue 10). One row lock per product caps a drop at about one add per lock
-- hold, whatever the hardware: split a product's available units over N rows ("buckets") and
-- concurrent adds lock different rows.
--
-- Bucket 0 is the product row itself (products.stock); buckets 1..N-1 live in
-- product_stock_buckets. With N = 1, the default, there is no extra row: commands lock and write
-- products.stock exactly as before, and tools that read products.stock stay right. With N > 1,
-- products.stock is bucket 0's share only and product_catalog.stock (the sum) is the figure to
-- read. Change N and the units with set_product_stock() only: it keeps the rows and N in step.

-- N lives on the product row because every transaction that must see all buckets (the add that
-- falls back to locking them all, set_product_stock) locks that row first and so reads its latest
-- version: a change of N committed after the transaction's snapshot is noticed there.
alter table public.products
  add column if not exists stock_buckets integer not null default 1
    check (stock_buckets between 1 and 256);

create table if not exists public.product_stock_buckets (
  product_id bigint  not null references public.products (id) on delete cascade,
  bucket     integer not null check (bucket >= 1),  -- bucket 0 is products.stock
  -- The last line of defence against overselling, as products.stock's check is.
  units      integer not null check (units >= 0),
  primary key (product_id, bucket)
);

-- Only the functions and the owner touch this table: RLS on with no policy, nothing granted to
-- the API roles (Supabase's default privileges would otherwise let anon and authenticated in).
-- The page reads the sum through the views, via private.units_in_buckets() below.
alter table public.product_stock_buckets enable row level security;
revoke all on table public.product_stock_buckets from anon, authenticated;

-- The views run with the caller's rights (security_invoker), and the caller may not read
-- product_stock_buckets: this function, running as its owner, tells them the one figure the
-- views show. It lives in a schema PostgREST does not expose, so it is no /rpc endpoint.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

create or replace function private.units_in_buckets(product_id bigint) returns bigint
  language sql stable security definer
  set search_path = ''
  as $$
    select coalesce(sum(b.units), 0) from public.product_stock_buckets b
    where b.product_id = units_in_buckets.product_id
  $$;
revoke all on function private.units_in_buckets(bigint) from public;
grant execute on function private.units_in_buckets(bigint) to anon, authenticated, service_role;

-- The operators' one way to set stock, from the Supabase SQL editor (as the owner, `postgres`):
--   select public.set_product_stock(42, 500);      -- 500 units available, N unchanged
--   select public.set_product_stock(42, 500, 8);   -- the same, spread over 8 buckets
--   select stock from public.product_catalog where id = 42;
-- `units` is what is available to add to carts; units already in carts stay there (and come
-- back on top of it when a cart is emptied or expires). Safe during a drop: it locks the product
-- row, then every bucket in ascending order (the global lock order, see shared/adapters/postgres/stock.py), so
-- it waits for the adds, removes and sweeps holding them, and those that come later see the new
-- figures; none of them can be half-applied across it.
create or replace function public.set_product_stock(
  product_id bigint, units integer, buckets integer default null
) returns void
  language plpgsql
  set search_path = ''
  as $$
  declare
    n integer;
  begin
    if units is null or units < 0 then
      raise exception 'units must be 0 or more, not %', units using errcode = '22023';
    end if;
    if buckets is not null and buckets not between 1 and 256 then
      raise exception 'buckets must be between 1 and 256, not %', buckets using errcode = '22023';
    end if;
    select coalesce(set_product_stock.buckets, p.stock_buckets) into n
    from public.products p where p.id = set_product_stock.product_id
    for no key update;
    if not found then
      raise exception 'no product %', product_id using errcode = 'P0002';
    end if;
    -- A new statement, so a fresh snapshot: it sees every bucket committed before the product
    -- row was ours, and waits for the commands still holding one.
    perform from public.product_stock_buckets b
    where b.product_id = set_product_stock.product_id
    order by b.bucket
    for no key update;
    delete from public.product_stock_buckets b
    where b.product_id = set_product_stock.product_id and b.bucket >= n;
    -- Evenly: every bucket gets units / n, the first units % n buckets one more.
    insert into public.product_stock_buckets as b (product_id, bucket, units)
      select set_product_stock.product_id, g, units / n + case when g < units % n then 1 else 0 end
      from generate_series(1, n - 1) as g
    on conflict on constraint product_stock_buckets_pkey do update set units = excluded.units;
    update public.products p
    set stock = units / n + case when units % n > 0 then 1 else 0 end, stock_buckets = n
    where p.id = set_product_stock.product_id;
  end
  $$;
-- Owner only: Supabase grants new functions in public to the API roles by default.
revoke all on function public.set_product_stock(bigint, integer, integer)
  from public, anon, authenticated, service_role;
