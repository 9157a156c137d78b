"""The definitions behind every rate civic311 reports: named choices, made once per center
(settings ``service_level_definition``, ``abandon_rate_definition``, ``short_abandon_s``)
and named in every answer (the ``definitions`` object of ``/api/v1/metrics`` and
``report calls --json``). Pure.

References: the QueueMetrics manual (a report chooses whether service level counts answered
calls only or answered + lost ones; "unanswered" calls are split by cause: abandon, timeout,
exit empty, exit with key) and ICMI (service level = answered within T over calls offered,
short abandons left out; abandoned = the caller hung up before reaching an agent).

Choices civic311 makes, and why:

- **Service level** defaults to ``entered_queue``: answered within T over *every caller who
  entered a queue* minus short abandons. Timeouts, exit empty, exit by key, abandons,
  callbacks and dropped calls are all "not answered within T". ``answered_abandoned`` (what
  Asterisk's ServicelevelPerf2 and many vendors show) lets a caller who timed out vanish;
  ``answered`` (answered only) flatters most. Both stay selectable, named as such.
- **Abandon rate** defaults to ``not_served``: abandoned (not short) + timed out + exit by key
  + exit empty + dropped, over offered minus short abandons. Exit by key counts as not
  served: in civic311 key 1 books a callback (outcome ``callback``, served later) and any
  other key says goodbye, so an ``exit_key`` caller left without service (QueueMetrics also
  counts EXITWITHKEY among unanswered calls). A dropped call was cut off by the PBX; the
  caller reached nobody. ``abandoned_only`` is the narrow ICMI count, named as such.
- **Refused** callers (no agent logged in, queue full) never entered a queue, so they are in
  no service-level denominator; they are never dropped either: ``refused`` and
  ``refused_rate`` (over the same denominator as the abandon rate) stand beside it.
- **Short abandon**: abandoned after waiting less than ``short_abandon_s`` seconds (a misdial
  or a caller who changed their mind); out of both rates, counted in ``short_abandoned``.
- **Callbacks requested vs completed** (the call report over a range): a request counts in
  the period the caller confirmed it in (like a call, in the period it entered a queue),
  whatever became of it since; ``completed`` = called back and connected to an agent,
  ``failed`` = every attempt failed or the number was refused, ``pending`` = not finished
  yet. So requested = completed + failed + pending in each period; a period's pending ones
  move to completed or failed later. The original call's record keeps outcome
  ``callback`` (counted in ``callback`` of the queue figures); the placeholder that waits
  for an agent is in no call figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.states import AbandonBasis, ServiceLevelBasis

if TYPE_CHECKING:
    from foundation.settings import Settings

SERVICE_LEVEL = {
    ServiceLevelBasis.ENTERED_QUEUE:
        "answered within T / (offered - refused - short_abandoned): every caller who entered "
        "a queue; timeouts, exits, abandons, callbacks and dropped calls count as not in time",
    ServiceLevelBasis.ANSWERED_ABANDONED:
        "answered within T / (answered + abandoned); short abandons, timeouts, exits, "
        "callbacks and dropped calls are left out",
    ServiceLevelBasis.ANSWERED: "answered within T / answered",
}
ABANDON_RATE = {
    AbandonBasis.NOT_SERVED:
        "not_served / (offered - short_abandoned); not_served = abandoned + timed_out + "
        "exit_key + exit_empty + dropped",
    AbandonBasis.ABANDONED_ONLY: "abandoned / (offered - short_abandoned)",
}
CALLBACKS = ("requested = callback requests confirmed in the period; completed (connected), "
             "failed and pending = what became of those requests so far; requested = "
             "completed + failed + pending")
NOT_SERVED = ("abandoned", "timeout", "exit_key", "exit_empty", "dropped")


@dataclass(frozen=True, slots=True)
class Definitions:
    """Which definitions produce the rates; short_abandon_s and thresholds_s in seconds."""

    service_level: ServiceLevelBasis = ServiceLevelBasis.ENTERED_QUEUE
    abandon_rate: AbandonBasis = AbandonBasis.NOT_SERVED
    short_abandon_s: float = 5
    thresholds_s: tuple[int, ...] = (30, 60)

    def as_dict(self) -> dict[str, object]:
        """The ``definitions`` object: each definition's name and formula."""
        return {
            "offered": "entered a queue + refused at join",
            "service_level": {"name": self.service_level.value,
                              "formula": SERVICE_LEVEL[self.service_level],
                              "thresholds_s": list(self.thresholds_s)},
            "abandon_rate": {"name": self.abandon_rate.value,
                             "formula": ABANDON_RATE[self.abandon_rate],
                             "outcomes": list(NOT_SERVED) if self.abandon_rate
                             == AbandonBasis.NOT_SERVED else ["abandoned"]},
            "refused_rate": {"name": "refused_at_join",
                             "formula": "refused / (offered - short_abandoned); refused = no "
                                        "agent logged in or queue full at join"},
            "short_abandon": {"threshold_s": self.short_abandon_s,
                              "formula": f"abandoned after waiting under {self.short_abandon_s:g}"
                                         " s; left out of service level and abandon rate"},
            "callbacks": {"name": "by_request_period", "formula": CALLBACKS},
        }


def from_settings(settings: Settings) -> Definitions:
    """The center's configured definitions."""
    return Definitions(ServiceLevelBasis(settings.service_level_definition),
                       AbandonBasis(settings.abandon_rate_definition),
                       settings.short_abandon_s, tuple(settings.sl_thresholds_s))
