"""The resident web portal (no log-in): report a problem, check a request by its number, say
"work not done", see requests near an address; English and Spanish, on a phone first."""
