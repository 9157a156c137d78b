"""Scheduled reports: a manager subscribes a person or an agency contact to the center's
figures daily, weekly or monthly; the worker e-mails each due period once (HTML summary,
CSV attached, a PDF for the monthly council package), logs every send and retries failures.

Here rather than in ``acd``: a report combines call figures (``acd``) and request figures
(``crm_bridge``), and ``crm_bridge`` is the lowest layer that may read both.

``periods`` (pure: which period is due), ``models`` (subscriptions and the send log),
``content`` (the figures and their HTML/CSV), ``pdf``, ``delivery`` (the worker job),
``web`` (the manager page).
"""
