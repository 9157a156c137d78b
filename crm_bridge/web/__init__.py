"""The CRM's staff web adapter: worker pages, admin catalog, agent desktop, JSON API."""
