"""A local Twilio for the tests and the demo, at the HTTP boundary only.

It answers the REST resources civic311 calls (``rest.py``: Queue Members, Calls, Queues,
Recordings) and plays the callers, agents and Twilio's call engine towards civic311's
webhooks (``cloud.py``: it runs the TwiML civic311 answers, signed with Twilio's scheme, in
Twilio's documented order, with the duplicates and retries Twilio sends). What the callers
and agents do is data (``scenario.py`` reads YAML/JSON scenarios; ``scenarios/``); what
actually happened to each call is the simulator's own ground truth (``cloud.Truth``), to
compare civic311's call records with. ``twiml.py`` parses the TwiML it is given.

It imports no capability: civic311 is on the other side of HTTP (or of a WSGI test
client); the composition root hands it the hooks that log simulated agents in.
"""
