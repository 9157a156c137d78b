"""Resident and oversight notifications: which to queue (notices), their words (messages),
and their delivery by email and SMS."""
