"""The monthly council package as a PDF (fpdf2): the totals, a bar chart of calls per day
(answered in the bar's dark part) and the day-by-day table. Core fonts only, so any text
outside Latin-1 is replaced rather than refused."""

from __future__ import annotations

from fpdf import FPDF

from crm_bridge.scheduled.content import CALL_COLUMNS, Report, columns

SHORT = {"offered": "Offered", "answered": "Answ.", "abandoned": "Aband.",
         "not_served": "Not srv", "refused": "Refused", "sl": "SL %", "sl_goal": "SL goal",
         "abandon_rate": "Ab. %", "abandon_goal": "Ab. goal", "asa": "ASA s",
         "asa_goal": "ASA goal", "aht": "AHT s", "received": "Recv.", "closed": "Closed",
         "on_time": "On time"}


def _latin1(text: object) -> str:
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _pairs(report: Report) -> list[tuple[str, str]]:
    out = []
    if report.calls_total:
        out += [(label, str(report.calls_total[k])) for k, label in CALL_COLUMNS]
    if report.requests:
        o = report.requests["outcomes"]
        out += [("Requests received", str(report.requests["received"]["total"])),
                ("Requests closed", str(o["closed"])), ("Closed on time", str(o["on_time"])),
                ("Reopened", str(o["reopened"])), ("Escalated", str(o["escalated"])),
                ("Open now", str(report.requests["open"])),
                ("Open and past due now", str(report.requests["overdue"]))]
    return out


def _chart(pdf: FPDF, report: Report) -> None:
    top = max((int(r["offered"]) for r in report.days), default=0)
    if not top:
        return
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, "Calls per day (dark: answered)", new_x="LMARGIN", new_y="NEXT")
    x0, y0, h = pdf.l_margin, pdf.get_y() + 2, 40.0
    w = (pdf.w - pdf.l_margin - pdf.r_margin) / len(report.days)
    for i, r in enumerate(report.days):
        offered, answered = int(r["offered"]), int(r["answered"])
        pdf.set_fill_color(180, 200, 230)
        pdf.rect(x0 + i * w + 0.5, y0 + h * (1 - offered / top), w - 1, h * offered / top, "F")
        pdf.set_fill_color(30, 80, 160)
        pdf.rect(x0 + i * w + 0.5, y0 + h * (1 - answered / top), w - 1, h * answered / top,
                 "F")
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(x0, y0 + h + 1)
    pdf.cell(0, 4, _latin1(f"{report.days[0]['day']} to {report.days[-1]['day']}, "
                           f"highest {top} calls"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def render(report: Report) -> bytes:
    """The report as PDF bytes."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_latin1(report.title))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin1(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for label, value in _pairs(report):
        pdf.cell(70, 6, _latin1(label), border="B")
        pdf.cell(30, 6, _latin1(value), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    if report.calls_total:
        pdf.set_font("Helvetica", "I", 9)
        pdf.cell(0, 7, _latin1(report.goal_text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        _chart(pdf, report)
    cols = columns(report)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, "Day by day", new_x="LMARGIN", new_y="NEXT")
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 24) / len(cols)
    pdf.set_font("Helvetica", "B", 7)
    pdf.cell(24, 5, "Day", border=1)
    for k, _ in cols:
        pdf.cell(width, 5, SHORT[k], border=1, align="R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in report.days:
        pdf.cell(24, 5, row["day"].isoformat(), border=1)
        for k, _ in cols:
            pdf.cell(width, 5, _latin1(row[k]), border=1, align="R")
        pdf.ln()
    return bytes(pdf.output())
