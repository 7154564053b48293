-- Demo catalogue. Re-runnable: existing products (and the stock they have now) are left alone.
insert into public.products (id, name, description, price_cents, stock) values
  (1, 'Espresso beans 1 kg', 'Dark roast, chocolate and hazelnut notes.', 2490, 100),
  (2, 'Pour-over kettle', 'Gooseneck kettle, 1 litre, stainless steel.', 4900, 25),
  (3, 'Ceramic dripper', 'Hand-made V60-style dripper, size 02.', 2200, 10),
  (4, 'Paper filters (100)', 'Unbleached filters for size 02 drippers.', 590, 500),
  (5, 'Burr grinder', 'Conical steel burrs, 40 grind settings.', 12900, 5),
  (6, 'Digital scale', '0.1 g resolution with a built-in timer.', 3490, 30),
  (7, 'Travel mug', 'Insulated, 350 ml, leak-proof lid.', 2900, 60),
  (8, 'Limited-edition Geisha 250 g', 'Panama, washed. One small lot a year.', 5900, 3)
on conflict (id) do nothing;

select setval(pg_get_serial_sequence('public.products', 'id'),
              greatest((select max(id) from public.products), 1));
