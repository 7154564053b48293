"""`make bench` and its instruments: load, the pgbench ceiling, the wire proxy, cold start."""
