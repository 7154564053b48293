-- pgbench script: one add-item transaction, the same SQL the repository runs (shared/repository.py:
-- lock cart and product, move the unit, commit), with no HTTP, JSON, JWT or Python in the way.
-- Variables: users, products (1 = the hot product), quantity. Keep in step with the repository.
\set u random(1, :users)
\set product_id random(1, :products)
BEGIN;
with cart as (
  insert into carts as c (user_id)
  values (cast('00000000-0000-4000-8000-' || lpad(cast(:u as text), 12, '0') as uuid))
  on conflict (user_id) do update set updated_at = now()
  returning c.id
)
select cart.id as cart_id, p.id as locked_id, p.name, p.price_cents, p.stock,
       coalesce(line.quantity, 0) as in_cart
from cart
left join lateral (
  select id, name, price_cents, stock from products
  where id = :product_id and cart.id is not null
  for update
) p on true
left join lateral (
  select quantity from cart_items
  where cart_id = cart.id and product_id = :product_id
  for update
) line on true
\gset
with taken as (
  update products set stock = stock - :quantity where id = :product_id
)
insert into cart_items as ci (cart_id, product_id, quantity)
values (:cart_id, :product_id, :quantity)
on conflict (cart_id, product_id) do update set quantity = ci.quantity + excluded.quantity
returning ci.quantity;
COMMIT;
