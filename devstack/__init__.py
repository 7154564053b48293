"""The local stand-in for the cloud: embedded PostgreSQL, the functions, and the gateway.

Development only: nothing here is deployed.
"""
