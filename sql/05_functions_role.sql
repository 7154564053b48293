-- The role the functions log in as (through DATABASE_URL): it owns nothing and holds exactly the
-- privileges the commands, the expiry sweep and the outbox relay need (granted in
-- 95_privileges.sql, once every table exists). Migrations keep running as the tables' owner.
-- No password here: set one where the database runs (docs/deploy.md), e.g. in the Supabase SQL
-- editor: alter role shop_functions with password '...';
do $$
begin
  if not exists (select from pg_roles where rolname = 'shop_functions') then
    create role shop_functions login noinherit nocreatedb nocreaterole;
  end if;
end
$$;
