"""Two-way SMS through Twilio Messaging: a resident texts the 311 number to report a problem
in a short guided exchange, to get a request's status by its number, or to opt out of texts
(STOP/START/HELP). ``keywords``, ``dialogue`` and ``texts`` are pure; ``models``/``queries``
keep each phone's exchange and opt-out; ``exchange_twiml`` is the signed webhook."""
