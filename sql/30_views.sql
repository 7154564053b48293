-- Read views for the frontend. security_invoker makes each view run with the caller's rights, so
-- the RLS policies of the tables underneath still decide who sees what.

-- A product's stock is the sum over its buckets (sql/16_stock_buckets.sql): products.stock is
-- bucket 0, private.units_in_buckets() the rest (0 for the usual single bucket).
create or replace view public.product_catalog with (security_invoker = true) as
  select p.id, p.name, p.description, p.price_cents, s.stock, s.stock > 0 as in_stock,
         -- "Limit 2 per customer" on the page (appended: CREATE OR REPLACE VIEW adds at the end)
         p.max_per_customer
  from public.products p
  cross join lateral (
    select cast(p.stock + private.units_in_buckets(p.id) as integer) as stock
  ) s;

create or replace view public.my_cart with (security_invoker = true) as
  select ci.product_id, p.name, p.description, p.price_cents, ci.quantity,
         ci.quantity * p.price_cents as line_total_cents,
         cast(p.stock + private.units_in_buckets(p.id) as integer) as stock,  -- as the catalogue
         c.id as cart_id, c.updated_at,
         -- When the reservation lapses ("reserved for 12 more minutes"); appended last because
         -- CREATE OR REPLACE VIEW can only add columns at the end.
         c.expires_at
  from public.carts c
  join public.cart_items ci on ci.cart_id = c.id
  join public.products p on p.id = ci.product_id
  where c.user_id = (select auth.uid());

create or replace view public.my_orders with (security_invoker = true) as
  select o.id, o.status, o.total_cents, o.correlation_id, o.created_at,
         coalesce(
           (select jsonb_agg(jsonb_build_object(
                     'product_id', oi.product_id, 'name', p.name, 'quantity', oi.quantity,
                     'unit_price_cents', oi.unit_price_cents,
                     'line_total_cents', oi.quantity * oi.unit_price_cents)
                   order by oi.product_id)
            from public.order_items oi join public.products p on p.id = oi.product_id
            where oi.order_id = o.id),
           '[]'::jsonb) as lines
  from public.orders o
  where o.user_id = (select auth.uid());

revoke all on table public.product_catalog, public.my_cart, public.my_orders from anon, authenticated;
grant select on table public.product_catalog to anon, authenticated;
grant select on table public.my_cart, public.my_orders to authenticated;
