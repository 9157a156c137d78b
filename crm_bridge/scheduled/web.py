"""The manager page of scheduled reports (``/crm/reports/subscriptions``): who gets which
report how often, add and remove, and the log of the latest sends. A refused form (a bad
address, an unknown agency) says why and changes nothing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import Agency
from crm_bridge.scheduled.models import ReportSend, ReportSubscription
from crm_bridge.scheduled.periods import Frequency, ReportKind
from crm_bridge.web.context import CrmWeb, form_text, user
from foundation.auth import roles
from foundation.db import utcnow
from foundation.header_values import email_problem, has_control
from foundation.users import Role

PATH = "/crm/reports/subscriptions"
LOG_ROWS = 50


def _form(s: Session, form: Any) -> tuple[dict[str, Any], str | None]:
    """The subscription a form asks for, or why it cannot be saved."""
    name, email = form_text(form, "name"), form_text(form, "email")
    frequency, kind, agency = (form_text(form, k) for k in ("frequency", "kind", "agency"))
    if not name or len(name) > 128 or has_control(name):
        return {}, "a name is needed (at most 128 characters, one line)"
    problem = email_problem(email)
    if problem:
        return {}, problem
    if frequency not in set(Frequency):
        return {}, f"frequency must be one of {', '.join(Frequency)}"
    if kind not in set(ReportKind):
        return {}, f"report must be one of {', '.join(ReportKind)}"
    agency_id = None
    if agency:
        agency_id = s.scalar(select(Agency.id).where(Agency.code == agency))
        if agency_id is None:
            return {}, f"no agency {agency!r}"
    return {"name": name, "email": email, "frequency": frequency, "kind": kind,
            "agency_id": agency_id}, None


def register(bp: Blueprint, web: CrmWeb) -> None:
    @bp.route(PATH, methods=["GET", "POST"])
    @roles(Role.MANAGER)
    def report_subscriptions() -> Any:
        status, error = 200, None
        with web.db.session() as s:
            if request.method == "POST":
                values, error = _form(s, request.form)
                if error is None:
                    s.add(ReportSubscription(**values, created_by=user().username,
                                             created_at=utcnow()))
                    flash(f"{values['name']} will get the {values['frequency']} report.", "ok")
                    return redirect(url_for("crm.report_subscriptions")), 303
                status = 400
            subs = list(s.scalars(select(ReportSubscription)
                                  .where(ReportSubscription.removed_at.is_(None))
                                  .order_by(ReportSubscription.name, ReportSubscription.id)))
            sends = list(s.scalars(select(ReportSend).order_by(ReportSend.id.desc())
                                   .limit(LOG_ROWS)))
            agencies = list(s.scalars(select(Agency).order_by(Agency.name)))
            page = render_template(
                "crm/report_subscriptions.html", subs=subs, sends=sends, agencies=agencies,
                frequencies=list(Frequency), kinds=list(ReportKind), error=error,
                form=request.form if error else {}, hour=web.settings.report_send_hour)
        return page, status

    @bp.route(f"{PATH}/<int:sub_id>/remove", methods=["POST"])
    @roles(Role.MANAGER)
    def remove_report_subscription(sub_id: int) -> Any:
        with web.db.session() as s:
            sub = s.get(ReportSubscription, sub_id)
            if sub is None or sub.removed_at is not None:
                flash(f"No subscription {sub_id}.", "error")
                return redirect(url_for("crm.report_subscriptions")), 303
            sub.removed_at = utcnow()
            flash(f"{sub.name} gets no more {sub.frequency} report.", "ok")
        return redirect(url_for("crm.report_subscriptions")), 303
