"""Outbound calls: an agent calls a resident back or an agency, through the carrier trunk.

Their records are a table of their own (``outbound_calls``), not rows of ``call_records``:
a call record is a queued call, reconciled call for call against app_queue's queue_log, and
every queue metric (offered, service level, ASA, abandon rate) is computed over them. An
outbound call never enters a queue and queue_log never hears of it, so keeping it apart
leaves the inbound figures and their reconciliation untouched by construction, instead of
every query having to remember a filter.

models.py (the table), queries.py (writes and reads), agi.py (the FastAGI ``outbound``
route the dialplan calls when the call starts and ends), originate.py (the desktop's AMI
Originate: ring the agent's phone, then the number), web.py (the desktop action, the list
and the report).
"""
