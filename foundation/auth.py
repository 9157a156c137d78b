"""Log-in, sessions and the role check on every route (deny by default).

Every view declares who may reach it with ``@roles(...)`` or ``@public``; a view that
declares nothing is refused with 403, so a forgotten decorator fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from foundation.users import Role, User, authenticate

F = TypeVar("F", bound=Callable[..., Any])
_ACCESS = "_civic311_access"


def roles(*allowed: Role | str) -> Callable[[F], F]:
    """Allow logged-in users with one of these roles (admin is always allowed)."""
    names = frozenset(str(r) for r in allowed) | {Role.ADMIN.value}

    def mark(view: F) -> F:
        setattr(view, _ACCESS, names)
        return view

    return mark


def public(view: F) -> F:
    """Reachable without log-in (webhooks check their own signatures, Open311 GETs are public)."""
    setattr(view, _ACCESS, "public")
    return view


def current_user() -> User | None:
    return g.get("user")  # type: ignore[no-any-return]


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/", "/twilio/")) or (
        request.accept_mimetypes.best == "application/json"
    )


def enforce_access() -> Any:
    """``before_request`` hook: resolve the session user and apply the view's policy."""
    if request.endpoint is None:
        return None  # 404 / 405 handled by Flask
    if request.endpoint == "static":
        return None
    view = current_app.view_functions[request.endpoint]
    policy = getattr(view, _ACCESS, None)
    if hasattr(view, "view_class"):
        policy = getattr(view.view_class, _ACCESS, policy)
    g.user = None
    uid = session.get("uid")
    if uid is not None:
        with current_app.extensions["civic311.db"].session() as s:
            user = s.get(User, uid)
            if user is not None and user.active:
                g.user = user
    if policy == "public":
        return None
    if policy is None:
        abort(403)  # deny by default: the route declared no access policy
    if g.user is None:
        if _wants_json():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path))
    if g.user.role not in policy:
        abort(403)
    return None


bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if request.method == "POST":
        with current_app.extensions["civic311.db"].session() as s:
            user = authenticate(s, request.form.get("username", ""),
                                request.form.get("password", ""))
        if user is not None:
            session.clear()
            session["uid"] = user.id
            session.permanent = True
            target = request.args.get("next") or url_for("center.home")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("center.home")
            return redirect(target)
        flash("Wrong user name or password.", "error")
        return render_template("login.html"), 401
    return render_template("login.html")


@bp.route("/logout", methods=["POST"])
@roles(*Role)
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(enforce_access)

    @app.context_processor
    def _user() -> dict[str, Any]:
        return {"user": g.get("user")}

