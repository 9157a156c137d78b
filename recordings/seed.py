"""``civic311 seed demo``: the standard QA form (greeting, listening, accuracy of information,
correct use of the CRM, closing), created once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.db import utcnow
from foundation.settings import Settings
from recordings.models import QaForm
from recordings.qa.queries import ensure_default_form
from recordings.qa.rules import DEFAULT_FORM


def seed_qa(session: Session, settings: Settings | None = None) -> list[str]:
    existed = session.scalar(select(QaForm.id).where(QaForm.name == DEFAULT_FORM)) is not None
    form = ensure_default_form(session, utcnow())
    state = "already exists" if existed else "created"
    return [f"QA form {form.name!r} ({len(form.criteria)} weighted criteria) {state}"]
