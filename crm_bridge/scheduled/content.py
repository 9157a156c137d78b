"""A report's figures for one period and their HTML summary and CSV.

Calls come from the call report over any range (``acd.range_report``, the center's
definitions and goals, rollups where settled), requests from the service-request report
(``crm_bridge.tickets.reports``, scoped to the subscriber's agency if any): the same numbers
the report pages show for the same days.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session

from acd import definitions, goals, range_report
from acd.metrics import combine
from acd.reports import table_row
from crm_bridge.scheduled.periods import Frequency, Period, ReportKind
from crm_bridge.tickets import reports
from foundation.settings import Settings

CALL_COLUMNS = (("offered", "Calls offered"), ("answered", "Answered"),
                ("abandoned", "Abandoned"), ("not_served", "Not served"),
                ("refused", "Refused (no agent)"), ("sl", "Service level %"),
                ("sl_goal", "Service level goal"), ("abandon_rate", "Abandon rate %"),
                ("abandon_goal", "Abandon goal"), ("asa", "Average answer s"),
                ("asa_goal", "Answer goal"), ("aht", "Average handle s"))
REQUEST_COLUMNS = (("received", "Requests received"), ("closed", "Requests closed"),
                   ("on_time", "Closed on time"))


@dataclass(frozen=True)
class Report:
    city: str
    frequency: Frequency
    kind: ReportKind
    period: Period
    agency: str | None  # the requests' scope
    goal_text: str
    calls_total: dict[str, Any] | None = None
    requests: dict[str, Any] | None = None  # received total, outcomes, open backlog now
    days: list[dict[str, Any]] = field(default_factory=list)  # one row per day

    @property
    def title(self) -> str:
        scope = f" ({self.agency})" if self.agency else ""
        return (f"{self.city} 311 {self.frequency.value} report{scope}: "
                f"{self.period.label(self.frequency)}")

    @property
    def stem(self) -> str:
        return f"civic311-{self.frequency.value}-{self.period.first.isoformat()}"


def _bounds(tz: ZoneInfo, first: date, last: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time(), tz),
            datetime.combine(last + timedelta(days=1), time(), tz))


def build(s: Session, settings: Settings, frequency: Frequency, kind: ReportKind,
          period: Period, agency: str | None, now: datetime) -> Report:
    """The figures of ``period`` (city days) for one subscription."""
    tz = ZoneInfo(settings.timezone)
    d, g = definitions.from_settings(settings), goals.goals_for(settings, None)
    days: list[dict[str, Any]] = [{"day": period.first + timedelta(days=i)}
                                  for i in range(period.days)]
    calls_total = requests = None
    if kind.calls:
        r = range_report.Range(period.first, period.last, settings.timezone)
        per_day = range_report.summaries(s, r, "day", None, d)
        for row, (_, m) in zip(days, per_day, strict=True):
            row.update(table_row("", m, d, g))
        calls_total = table_row("Total", combine([m for _, m in per_day], d.thresholds_s), d, g)
    if kind.requests:
        for row in days:
            t0, t1 = _bounds(tz, row["day"], row["day"])
            out = reports.outcomes(s, t0, t1, agency)
            row.update(received=reports.received(s, t0, t1, agency, top=0)["total"],
                       closed=out["closed"], on_time=out["on_time"])
        t0, t1 = _bounds(tz, period.first, period.last)
        backlog = reports.backlog(s, now, agency)
        requests = {"received": reports.received(s, t0, t1, agency),
                    "outcomes": reports.outcomes(s, t0, t1, agency),
                    "open": sum(b["open"] for b in backlog),
                    "overdue": sum(b["open"] - b["not due"] for b in backlog)}
    goal_text = (f"goals: {100 * g.service_level:.0f} % answered within {g.answer_s} s, "
                 f"abandons at most {100 * g.abandon_rate:.0f} %, "
                 f"average answer within {g.asa_s:.0f} s")
    return Report(settings.city_name, frequency, kind, period, agency, goal_text,
                  calls_total, requests, days)


def columns(report: Report) -> list[tuple[str, str]]:
    return [*(CALL_COLUMNS if report.kind.calls else ()),
            *(REQUEST_COLUMNS if report.kind.requests else ())]


def to_csv(report: Report) -> str:
    """One row per day of the period, then the total row."""
    cols = columns(report)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["day", *(k for k, _ in cols)])
    for row in report.days:
        w.writerow([row["day"].isoformat(), *(row[k] for k, _ in cols)])
    total = {**(report.calls_total or {})}
    if report.requests:
        o = report.requests["outcomes"]
        total.update(received=report.requests["received"]["total"], closed=o["closed"],
                     on_time=o["on_time"])
    w.writerow(["total", *(total[k] for k, _ in cols)])
    return out.getvalue()


def to_text(report: Report) -> str:
    """The plain-text part, for mail readers that show no HTML."""
    lines = [report.title, ""]
    if report.calls_total:
        lines += [f"{label}: {report.calls_total[k]}" for k, label in CALL_COLUMNS]
    if report.requests:
        o = report.requests["outcomes"]
        lines += [f"Requests received: {report.requests['received']['total']}",
                  f"Requests closed: {o['closed']}, on time: {o['on_time']}",
                  f"Open now: {report.requests['open']}, overdue: {report.requests['overdue']}"]
    return "\n".join([*lines, "", report.goal_text, "The figures per day are attached (CSV)."])


_HTML = Environment(loader=FileSystemLoader(Path(__file__).parent),
                    autoescape=True).get_template("report_mail.html")


def to_html(report: Report, pdf: bool) -> str:
    """The HTML summary, every value escaped."""
    return _HTML.render(r=report, calls=CALL_COLUMNS, pdf=pdf)
