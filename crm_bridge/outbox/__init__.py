"""Delivery of tickets to external CRMs: the outbox job, one sender strategy per destination
(a mapper and a raw client each), and polling remotes for updates."""
