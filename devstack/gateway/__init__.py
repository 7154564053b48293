"""A local stand-in for the parts of Supabase the shop uses, over the dev PostgreSQL.

One WSGI app on 127.0.0.1: `/rest/v1` (a read-only PostgREST subset), `/auth/v1` (GoTrue's
email/password subset), `/functions/v1` (forwards to the function processes) and `/` (the
frontend). Development only: nothing here is deployed.
"""
