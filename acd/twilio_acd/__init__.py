"""civic311 as the ACD on Twilio: callers wait in Twilio Queues, civic311 picks the agent.

``routing`` (pure) chooses who takes whom; ``models``/``queries`` keep the waiting callers,
the agents' availability and the REST outbox; ``rest`` talks to Twilio's REST API;
``dispatch_jobs`` is the worker's loop; ``twiml_web`` the agent legs' webhooks and the
agent token; ``conference`` (and ``conference_web``) hold and attended transfers, in a
Twilio Conference the call moves into at its first hold or consult. Every fact becomes an
``acd.events`` event applied by ``acd.recorder`` (translations in ``acd.twilio_events``).
"""
