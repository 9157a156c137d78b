"""Virtual hold: rules (pure), the request table (models), its queries, the AGI route and
the daemon's runner."""
