"""The resident portal's pages (no log-in): pick a request type, answer its questions, place
it by address or map pin, add a photo; the number and promised date; a request's status by
number and "work not done"; requests near an address. Tickets are opened through
``crm_bridge.public`` (channel ``web``, the resident's language stored on the ticket)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from werkzeug.datastructures import MultiDict

from crm_bridge import public as crm
from foundation.auth import public
from foundation.db import Database, utcnow
from foundation.settings import Settings, private_dir
from foundation.web import Mount
from places import public as places
from portal import texts

STATIC = Path(__file__).resolve().parent / "static"
PHOTO_NAME_CHARS = set("0123456789abcdef.jpgnwe")


def answers(form: Any, card: crm.ServiceCard) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in card.questions:
        values = [v for v in form.getlist(f"attr.{d['code']}") if v.strip()]
        if values:
            out[d["code"]] = values if d["datatype"] == "multivaluelist" else values[0]
    return out


def spoken(problems: list[tuple[str, str]], card: crm.ServiceCard,
           lang: str) -> list[tuple[str, str]]:
    """The problems with the type's questions named in the resident's language (the CRM
    checks answers against the English definitions)."""
    if lang == "en":
        return problems
    asked = {d["code"]: d["description"] for d in card.questions}
    return [(f, texts.text(lang, "answer_check", question=asked[f])) if f in asked else (f, m)
            for f, m in problems]


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw and raw.strip() else None
    except ValueError:
        return None


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    cfg = crm.from_settings(settings)
    photos_dir = settings.data_dir / crm.PHOTO_STORE
    max_mb = settings.portal_photo_max_bytes / (1024 * 1024)
    bp = Blueprint("portal", __name__, template_folder="templates")

    @bp.before_request
    def _language() -> None:
        g.lang = texts.pick(request.args.get("lang") or request.cookies.get("lang"),
                            [lang for lang, _ in request.accept_languages])

    @bp.after_request
    def _remember(resp: Response) -> Response:
        if request.args.get("lang") in texts.LANGUAGES:
            resp.set_cookie("lang", g.lang, max_age=365 * 86400, samesite="Lax")
        return resp

    @bp.context_processor
    def _words() -> dict[str, Any]:
        lang = g.get("lang", "en")
        return {"_t": lambda key, **kw: texts.text(lang, key, **kw), "lang": lang,
                "languages": texts.NAMES, "city": cfg.city_name,
                "map": {"tiles": settings.map_tile_url,
                        "attribution": settings.map_attribution,
                        "center": settings.map_center, "zoom": settings.map_zoom,
                        "leaflet": places.map_ready(settings.map_tile_url)},
                "max_mb": f"{max_mb:g}"}

    def page(template: str, status: int = 200, **ctx: Any) -> Any:
        return render_template(f"portal/{template}", **ctx), status

    @bp.route("/portal/")
    @public
    def home() -> Any:
        q = (request.args.get("q") or "").strip().lower()
        with db.session() as s:
            cards = crm.catalog(s, g.lang)
        if q:
            cards = [c for c in cards if q in f"{c.name} {c.keywords} {c.description} "
                                              f"{c.group}".lower()]
        groups: dict[str, list[crm.ServiceCard]] = {}
        for c in cards:
            groups.setdefault(c.group or texts.text(g.lang, "other"), []).append(c)
        return page("home.html", groups=groups, q=q)

    def report_page(code: str, status: int = 200, problems: Any = (), form: Any = None) -> Any:
        with db.session() as s:
            card = next((c for c in crm.catalog(s, g.lang) if c.code == code), None)
        if card is None:
            abort(404)
        return page("report.html", status, card=card, problems=list(problems),
                    form=form if form is not None else MultiDict(),
                    sla=texts.sla(g.lang, card.sla))

    @bp.route("/portal/report/<code>")
    @public
    def report(code: str) -> Any:
        return report_page(code)

    def save_photo() -> str | None:
        f = request.files.get("photo")
        if f is None or not f.filename:
            return None
        data = f.read(settings.portal_photo_max_bytes + 1)
        private_dir(photos_dir)
        name = crm.keep_photo(photos_dir, data, settings.portal_photo_max_bytes)
        return url_for("portal.photo", name=name, _external=bool(settings.public_base_url))

    @bp.route("/portal/report/<code>", methods=["POST"])
    @public
    def report_post(code: str) -> Any:
        f = request.form
        with db.session() as s:
            card = next((c for c in crm.catalog(s, g.lang) if c.code == code), None)
        if card is None:
            abort(404)
        lat, long = _float(f.get("lat")), _float(f.get("long"))
        address = (f.get("address") or "").strip() or None
        if address is None and lat is None:
            return report_page(code, 400, [("address", texts.text(g.lang, "address_none"))], f)
        try:
            media_url = save_photo()
        except crm.PhotoError as exc:
            key = "photo_big" if exc.code == "photo_size" else "photo_bad"
            return report_page(code, 400, [("photo", texts.text(g.lang, key, mb=f"{max_mb:g}"))],
                               f)
        email = (f.get("email") or "").strip() or None
        draft = crm.TicketDraft(
            code, description=(f.get("description") or "").strip(), channel="web",
            language=g.lang, actor="resident", attributes=answers(f, card), address=address,
            lat=lat, long=long, email=email, phone=(f.get("phone") or "").strip() or None,
            first_name=(f.get("first_name") or "").strip() or None,
            last_name=(f.get("last_name") or "").strip() or None, notify_email=bool(email),
            media_url=media_url, source_client="portal",
            idempotency_key=(f.get("once") or "")[:64] or None)
        try:
            with db.session() as s:
                opened = crm.open_request(s, draft, cfg)
        except crm.CrmError as exc:
            problems = getattr(exc, "problems", None) or [(exc.code, str(exc))]
            return report_page(code, 400, spoken(list(problems), card, g.lang), f)
        return redirect(url_for("portal.status", number=opened.number, new=1)), 303

    @bp.route("/portal/requests")
    @public
    def find() -> Any:
        number = "".join(ch for ch in request.args.get("number", "") if ch.isdigit())
        return redirect(url_for("portal.status", number=number or "0"))

    def status_page(number: str, status: int = 200, **extra: Any) -> Any:
        try:
            with db.session() as s:
                st = crm.public_status(s, number, str(cfg.calendar.tz), g.lang)
        except crm.InvalidTicketNumber:
            return page("status.html", 404, st=None, number=number, error="bad_number")
        if st is None:
            return page("status.html", 404, st=None, number=number, error="not_found")
        can_reopen = st.closed and st.closed_at is not None and \
            utcnow() <= st.closed_at + timedelta(days=cfg.reopen_window_days)
        return page("status.html", status, st=st, number=st.number, error=None,
                    state=texts.state(g.lang, st.state), can_reopen=can_reopen,
                    expected=texts.long_date(g.lang, st.expected_date)
                    if st.expected_date else None,
                    window=f"{cfg.reopen_window_days:g}", new=bool(request.args.get("new")),
                    **extra)

    @bp.route("/portal/requests/<number>")
    @public
    def status(number: str) -> Any:
        return status_page(number)

    @bp.route("/portal/requests/<number>/reopen", methods=["POST"])
    @public
    def reopen(number: str) -> Any:
        f = request.form
        try:
            with db.session() as s:
                crm.reopen_request(s, number, f.get("contact") or "", f.get("text") or "", cfg)
        except crm.LifecycleError:
            return status_page(number, 409, reopen_error=texts.text(g.lang, "window_over"))
        except crm.CrmError as exc:
            return status_page(number, 400, reopen_error=str(exc))
        return status_page(number, reopened=True)

    @bp.route("/portal/nearby")
    @public
    def nearby() -> Any:
        address = (request.args.get("address") or "").strip()[:200]
        found, suggestions, rows = None, [], []
        if address:
            with db.session() as s:
                found = places.geocode(s, address)
                if found is None:
                    suggestions = places.search(s, address, limit=5)
                else:
                    rows = crm.nearby_requests(s, found.lat, found.long, cfg,
                                               radius_m=settings.portal_nearby_radius_m,
                                               lang=g.lang)
        return page("nearby.html", address=address, found=found, suggestions=suggestions,
                    rows=[{**r.__dict__, "state": texts.state(g.lang, r.state)} for r in rows])

    @bp.route("/portal/static/<path:filename>")
    @public
    def static(filename: str) -> Any:
        """The portal's CSS and JS."""
        return send_from_directory(STATIC, filename, max_age=3600)

    @bp.route("/portal/photos/<name>")
    @public
    def photo(name: str) -> Any:
        if not set(name) <= PHOTO_NAME_CHARS:
            abort(404)
        return send_from_directory(photos_dir, name, max_age=86400)

    return [Mount(bp)]
