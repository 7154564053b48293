-- Reads go straight from the browser to PostgREST, so RLS is the only gate on them. Following
-- Supabase's advice: revoke everything from the API roles, grant back only SELECT, and write no
-- insert/update/delete policy at all: writes happen only in the functions, which connect as the
-- table owner.

alter table public.products    enable row level security;
alter table public.carts       enable row level security;
alter table public.cart_items  enable row level security;
alter table public.orders      enable row level security;
alter table public.order_items enable row level security;

revoke all on table public.products, public.carts, public.cart_items, public.orders,
  public.order_items from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;

grant select on table public.products to anon, authenticated;
grant select on table public.carts, public.cart_items, public.orders, public.order_items
  to authenticated;

drop policy if exists products_readable_by_everyone on public.products;
create policy products_readable_by_everyone on public.products
  for select to anon, authenticated using (true);

drop policy if exists carts_readable_by_owner on public.carts;
create policy carts_readable_by_owner on public.carts
  for select to authenticated using ((select auth.uid()) = user_id);

drop policy if exists cart_items_readable_by_cart_owner on public.cart_items;
create policy cart_items_readable_by_cart_owner on public.cart_items
  for select to authenticated using (
    cart_id in (select c.id from public.carts c where c.user_id = (select auth.uid()))
  );

drop policy if exists orders_readable_by_owner on public.orders;
create policy orders_readable_by_owner on public.orders
  for select to authenticated using ((select auth.uid()) = user_id);

drop policy if exists order_items_readable_by_order_owner on public.order_items;
create policy order_items_readable_by_order_owner on public.order_items
  for select to authenticated using (
    order_id in (select o.id from public.orders o where o.user_id = (select auth.uid()))
  );
