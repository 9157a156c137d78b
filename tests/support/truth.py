"""An independent reading of Asterisk's queue_log, written separately from acd/queue_log.py
on purpose: the tests compare the system's records with what Asterisk itself logged."""

from __future__ import annotations

from pathlib import Path

TERMINAL = {
    "COMPLETECALLER": "answered", "COMPLETEAGENT": "answered", "BLINDTRANSFER": "answered",
    "ATTENDEDTRANSFER": "answered", "ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "exit_empty", "EXITWITHKEY": "exit_key", "REFUSED": "refused",
}


def record_key(uniqueid: str, leg: int) -> str:
    """How ``truth`` names a record: the callid, ``callid#2`` for its second queue entry..."""
    return uniqueid if leg == 1 else f"{uniqueid}#{leg}"


def truth(queue_log: Path) -> dict[str, dict[str, object]]:
    """callid -> {queue, outcome, wait_s, talk_s, agent, caller} for every finished call.

    A caller transferred into a queue enters again under the same callid: each entry after
    the first is its own queued call (QueueMetrics' rule), keyed ``callid#2``, ``callid#3``...
    """
    calls: dict[str, dict[str, object]] = {}
    entries: dict[str, int] = {}
    for raw in queue_log.read_text().splitlines():
        f = raw.split("|")
        if len(f) < 5 or f[1] in ("NONE", "CLI", "MANAGER") or f[2] == "NONE":  # member events
            continue
        callid, queue, agent, event, data = f[1], f[2], f[3], f[4], f[5:]
        if event in ("ENTERQUEUE", "REFUSED") and callid in entries and (
                calls[record_key(callid, entries[callid])]["outcome"] is not None
                or calls[record_key(callid, entries[callid])]["queue"] != queue):
            entries[callid] += 1  # a new entry of a caller whose last one ended
        n = entries.setdefault(callid, 1)
        if event not in ("ENTERQUEUE", "REFUSED"):
            # app_queue may log a transfer's end (BLINDTRANSFER) after the caller's entry
            # into the next queue: an event belongs to the newest entry of its own queue
            n = next((k for k in range(n, 0, -1) if calls.get(record_key(callid, k), {})
                      .get("queue") == queue), n)
        c = calls.setdefault(record_key(callid, n), {
            "queue": queue, "outcome": None, "wait_s": None, "talk_s": None, "agent": None,
            "caller": None})
        if event == "ENTERQUEUE":
            c["caller"] = data[1]
        elif event == "CONNECT":
            c["wait_s"], c["agent"] = int(data[0]), agent
        elif event in TERMINAL:
            c["outcome"] = TERMINAL[event]
            if event.startswith("COMPLETE"):
                c["wait_s"], c["talk_s"], c["agent"] = int(data[0]), int(data[1]), agent
            elif event.endswith("TRANSFER"):  # ...|holdtime|calltime|position
                c["wait_s"], c["talk_s"], c["agent"] = int(data[-3]), int(data[-2]), agent
            elif event == "EXITWITHKEY":
                c["wait_s"] = int(data[3])
            elif event == "REFUSED":
                c["wait_s"], c["caller"] = 0, data[1]
            else:
                c["wait_s"] = int(data[2])
    return calls


def truth_metrics(calls: dict[str, dict[str, object]], short_abandon_s: int,
                  thresholds: tuple[int, ...]) -> dict[str, object]:
    """The queue metrics by their textbook definitions, straight from the logged calls.

    Calls with no end in the log (cut off by an Asterisk restart) count as offered, entered
    a queue, and not served.
    """
    out: dict[str, object] = {k: 0 for k in (
        "answered", "abandoned", "short_abandoned", "timeout", "exit_key", "exit_empty",
        "refused", "cut")}
    within = dict.fromkeys(thresholds, 0)
    waits: list[int] = []
    for c in calls.values():
        wait = int(c["wait_s"] or 0)  # type: ignore[call-overload]
        outcome = c["outcome"]
        if outcome is None:
            out["cut"] += 1  # type: ignore[operator]
            continue
        waits.append(wait)
        if outcome == "abandoned" and wait < short_abandon_s:
            outcome = "short_abandoned"
        out[str(outcome)] += 1  # type: ignore[operator]
        if outcome == "answered":
            for t in thresholds:
                within[t] += wait <= t
    answered, abandoned = out["answered"], out["abandoned"]
    out["offered"] = len(calls)
    # service level over every caller who entered a queue (the refused never did), short
    # abandons out; calls cut off count as entered and not answered
    entered = len(calls) - out["refused"] - out["short_abandoned"]  # type: ignore[operator]
    out["sl"] = {t: within[t] / entered for t in thresholds}
    out["sl_answered_abandoned"] = {t: within[t] / (answered + abandoned)  # type: ignore[operator]
                                    for t in thresholds}
    out["not_served"] = sum(out[k] for k in (  # type: ignore[misc]
        "abandoned", "timeout", "exit_key", "exit_empty", "cut"))
    answered_waits = [int(c["wait_s"]) for c in calls.values()  # type: ignore[call-overload]
                      if c["outcome"] == "answered"]
    out["asa_s"] = sum(answered_waits) / len(answered_waits)
    out["longest_wait_s"] = max(waits)
    return out
