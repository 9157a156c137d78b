"""E-mail in: mail to the 311 address opens a request, a reply carrying a ticket number
comments on it (the agency told); auto-replies, loops, repeats and floods are refused and
recorded. Parsing and refusal rules are pure (``parse``, ``classify``); ``intake`` applies a
message to the database; ``smtp_listener`` and ``imap_poll`` are the two receivers."""
