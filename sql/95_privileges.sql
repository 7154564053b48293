-- Privileges, settled last so that they cover every object the files before created.
--
-- 1. The API roles (anon, authenticated): SELECT on what the read side needs and nothing else.
--    Supabase's default privileges grant every new table, sequence and function in `public` to
--    them; this takes all of it back, then grants back only the reads (RLS still decides rows).
revoke all on all tables in schema public from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;
revoke all on all functions in schema public from public, anon, authenticated;

grant select on table public.products, public.product_catalog to anon, authenticated;
grant select on table public.carts, public.cart_items, public.orders, public.order_items,
  public.my_cart, public.my_orders to authenticated;

-- 2. shop_functions: the writes of the commands, the sweep and the relay, column by column
--    where it can be. Every table keeps RLS on; a policy per table lets this role (and only it)
--    past, so a bug in a function still cannot reach a table it was not granted.
grant usage on schema public to shop_functions;
grant select, update (stock) on public.products to shop_functions;
grant select, insert (user_id, expires_at), update (updated_at, expires_at), delete
  on public.carts to shop_functions;
grant select, insert, update (quantity), delete on public.cart_items to shop_functions;
grant select, insert on public.orders to shop_functions;
grant insert on public.order_items to shop_functions;
grant select, insert (user_id, key, fingerprint, status, response), update (key, status, response),
  delete on public.idempotency_keys to shop_functions;
grant select, insert (event_type, order_id, correlation_id, payload),
  update (attempts, sent_at, last_error) on public.outbox to shop_functions;

do $$
declare
  t text;
begin
  foreach t in array array['products', 'carts', 'cart_items', 'orders', 'order_items',
                           'idempotency_keys', 'outbox'] loop
    execute format('drop policy if exists shop_functions_write on public.%I', t);
    execute format(
      'create policy shop_functions_write on public.%I for all to shop_functions'
      ' using (true) with check (true)', t);
  end loop;
end
$$;
