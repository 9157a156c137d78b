"""CPU seconds used by process trees and by the whole machine, read from Linux's /proc.

The benchmarks run on a machine shared with other work, so a step's verdict alone does not
say where the CPU went: these readings split a step's CPU time between the processes under
test (each with its descendants: Kamailio's forked workers, say) and everything else.
"""

from __future__ import annotations

import os
import resource
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, list[str]]:
    """pid -> the fields of /proc/PID/stat after the command name (state, ppid, ...)."""
    out: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        out[int(entry.name)] = text[text.rindex(")") + 2:].split()
    return out


def tree_cpu_s(roots: Mapping[str, Iterable[int]]) -> dict[str, float]:
    """name -> CPU seconds (user + system) its root pids and all their descendants used so
    far, with the children they reaped; a pid no longer there counts 0."""
    stats = _stats()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, fields in stats.items():
        children[int(fields[1])].append(pid)
    out: dict[str, float] = {}
    for name, pids in roots.items():
        todo, ticks = list(pids), 0
        while todo:
            pid = todo.pop()
            if pid in stats:  # utime, stime, cutime, cstime: fields 14-17 of stat
                ticks += sum(int(v) for v in stats[pid][11:15])
                todo += children.get(pid, [])
        out[name] = ticks / TICKS_PER_S
    return out


def machine_busy_s() -> float:
    """CPU seconds every core of the machine has spent busy (not idle, not waiting on I/O)
    since boot, from /proc/stat."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    values = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(values) - values[3] - values[4]) / TICKS_PER_S


def own_cpu_s() -> dict[str, float]:
    """CPU seconds of this process and of the children it has reaped (short-lived ones:
    SIPp callers that ran to the end, ``asterisk -rx`` and ``kamcmd`` runs)."""
    def total(who: int) -> float:
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    return {"bench process": total(resource.RUSAGE_SELF),
            "SIPp callers, CLI runs": total(resource.RUSAGE_CHILDREN)}
