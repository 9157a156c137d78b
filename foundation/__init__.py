"""Shared building blocks every capability may use: the database base and sessions, typed
settings, users and the role check, the ``Job`` type, the CLI context, bulk writes, heartbeats
and the one datetime parser. Imports no capability and not the composition root."""
