"""A local Twilio for the tests and the demo, at the HTTP boundary only.

It answers the REST resources civic311 calls (``rest.py``: Queue Members, Calls, Queues,
Recordings, Conference Participants) and plays the callers, agents and Twilio's call engine
towards civic311's webhooks: ``cloud.Sim`` is the account (the scenario's callers and
agents, what civic311 asks by REST), ``verbs`` runs the TwiML civic311 answers in Twilio's
documented order, ``rooms`` its conferences, ``engine`` keeps the clock and signs and sends
the webhooks (with the retries and duplicates Twilio sends), ``calls`` holds a call's
records. What the callers and agents do is data (``scenario.py`` reads YAML/JSON scenarios;
``scenarios/``); what actually happened to each call is the simulator's own ground truth
(``calls.Truth``), to compare civic311's call records with. ``twiml.py`` parses the TwiML
it is given.

It imports no capability: civic311 is on the other side of HTTP (or of a WSGI test client);
the composition root hands it the hooks that log simulated agents in.
"""
