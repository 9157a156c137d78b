"""Log-in, sessions and the role check on every route (deny by default).

Every view declares who may reach it with ``@roles(...)`` or ``@public``; a view that
declares nothing is refused with 403, so a forgotten decorator fails closed.

Sessions are revocable: the signed cookie carries the user id and the user's session epoch
(``User.session_epoch``), checked against the database on every request. Log-out and a
password change move the epoch on, so every cookie issued before (copied ones included, on
any device) is refused from then on. Log-in failures (passwords and second-factor codes
alike) are throttled per account and per address (``foundation/throttle.py``); a user with a
TOTP secret, or whose role the city lists in ``totp_roles``, also gives an authenticator code
(``foundation/second_factor.py``) before the session starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

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

from foundation import sso, throttle
from foundation.db import Database, utcnow
from foundation.second_factor import check_code
from foundation.settings import Settings
from foundation.throttle import Policy, Scope
from foundation.users import Role, User, authenticate, end_sessions

F = TypeVar("F", bound=Callable[..., Any])
_ACCESS = "_civic311_access"
PENDING_S = 300  # the second factor is asked within five minutes of the password


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


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/", "/twilio/")) or (
        request.accept_mimetypes.best == "application/json"
    )


class Auth:
    """The log-in views and the access hook, built with the database, the settings and a
    clock (tests pass their own to step past a lock without waiting)."""

    def __init__(self, db: Database, settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        lock = (timedelta(seconds=settings.login_window_s),
                timedelta(seconds=settings.login_lockout_s),
                timedelta(seconds=settings.login_lockout_max_s))
        unknown = set(settings.totp_roles) - {r.value for r in Role}
        if unknown:
            raise ValueError(f"totp_roles: unknown roles {sorted(unknown)}")
        self.totp_roles = frozenset(settings.totp_roles)
        self.policies = {Scope.ACCOUNT: Policy(settings.login_max_failures, *lock),
                         Scope.ADDRESS: Policy(settings.login_max_failures_per_address, *lock)}

    def enforce_access(self) -> Any:
        """``before_request`` hook: resolve the session user and apply the view's policy."""
        if request.endpoint is None:
            return None  # 404 / 405 handled by Flask
        if request.endpoint == "static":
            return None
        view = current_app.view_functions[request.endpoint]
        policy = getattr(view, _ACCESS, None)
        if hasattr(view, "view_class"):
            policy = getattr(view.view_class, _ACCESS, policy)
        g.user = self._session_user()
        if policy == "public":
            return None
        if policy is None:
            abort(403)  # deny by default: the route declared no access policy
        if g.user is None:
            if wants_json():
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path))
        if g.user.role not in policy:
            abort(403)
        return None

    def _session_user(self) -> User | None:
        uid = session.get("uid")
        if uid is None:
            return None
        with self.db.session() as s:
            user = s.get(User, uid)
        if user is None or not user.active or session.get("epoch") != user.session_epoch:
            session.clear()  # revoked (log-out, new password) or from before epochs: gone
            return None
        return user

    def _keys(self, username: str) -> dict[Scope, str]:
        return {Scope.ACCOUNT: username, Scope.ADDRESS: request.remote_addr or "unknown"}

    def login(self) -> Any:
        if request.method != "POST":
            return render_template("login.html")
        username = request.form.get("username", "")
        keys, now = self._keys(username), self.clock()
        with self.db.session() as s:
            if (until := throttle.locked_until(s, keys, now)) is not None:
                return self._locked(until, now, "login.html")
            user = authenticate(s, username, request.form.get("password", ""))
            if user is None:
                self._count_failure(s, keys, now)
            elif not user.totp_secret and user.role not in self.totp_roles:
                throttle.record_success(s, username)  # with a code due, only the code clears
        if user is None:
            return self._refused(keys, now, "login.html", "Wrong user name or password.")
        if user.totp_secret:
            session.clear()
            session["pending"] = {"uid": user.id, "epoch": user.session_epoch,
                                  "at": now.timestamp()}
            return redirect(url_for("auth.login_code", next=request.args.get("next")))
        if user.role in self.totp_roles:
            flash("Your role logs in with a second factor (an authenticator app code) and "
                  "none is set up for you yet: ask an administrator to enrol you.", "error")
            return render_template("login.html"), 403
        return self.start_session(user)

    def login_code(self) -> Any:
        """The second step: the authenticator code, within five minutes of the password."""
        pending, now = session.get("pending"), self.clock()
        if not pending or now.timestamp() - pending["at"] > PENDING_S:
            session.clear()
            flash("Log in again: the code was not given in time.", "error")
            return redirect(url_for("auth.login"))
        if request.method != "POST":
            return render_template("login_code.html")
        with self.db.session() as s:
            user = s.get(User, pending["uid"])
            if user is None or not user.active or user.session_epoch != pending["epoch"]:
                session.clear()
                return redirect(url_for("auth.login"))
            keys = self._keys(user.username)
            if (until := throttle.locked_until(s, keys, now)) is not None:
                return self._locked(until, now, "login_code.html")
            ok = check_code(user, request.form.get("code", ""), now)
            if ok:
                throttle.record_success(s, user.username)
            else:
                self._count_failure(s, keys, now)
        if not ok:
            return self._refused(keys, now, "login_code.html", "Wrong or already used code.")
        return self.start_session(user)

    def _count_failure(self, s: Any, keys: dict[Scope, str], now: datetime) -> None:
        throttle.record_failure(
            s, {scope: (value, self.policies[scope]) for scope, value in keys.items()}, now)

    def _refused(self, keys: dict[Scope, str], now: datetime, template: str,
                 message: str) -> Any:
        with self.db.session() as s:
            until = throttle.locked_until(s, keys, now)
        if until is not None:  # this failure was the one that locked
            return self._locked(until, now, template)
        flash(message, "error")
        return render_template(template), 401

    def start_session(self, user: User, target: str | None = None) -> Any:
        session.clear()
        session["uid"], session["epoch"] = user.id, user.session_epoch
        session.permanent = True
        target = target or request.args.get("next") or url_for("center.home")
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("center.home")
        return redirect(target)

    def _locked(self, until: datetime, now: datetime, template: str) -> Any:
        """429 with the time to try again, in minutes and on the city's clock."""
        wait_s = max(1, math.ceil((until - now).total_seconds()))
        minutes = math.ceil(wait_s / 60)
        at = until.astimezone(ZoneInfo(self.settings.timezone)).strftime("%H:%M")
        flash(f"Too many failed log-ins. Try again in {minutes} minute"
              f"{'s' if minutes != 1 else ''} (after {at}).", "error")
        return render_template(template), 429, {"Retry-After": str(wait_s)}

    def logout(self) -> Any:
        uid = session.get("uid")
        if uid is not None:
            with self.db.session() as s:
                end_sessions(s, uid)
        session.clear()
        return redirect(url_for("auth.login"))


def install(app: Flask, db: Database, settings: Settings,
            clock: Callable[[], datetime] = utcnow) -> None:
    auth = Auth(db, settings, clock)
    bp = Blueprint("auth", __name__)

    @bp.route("/login", methods=["GET", "POST"])
    @public
    def login() -> Any:
        return auth.login()

    @bp.route("/login/code", methods=["GET", "POST"])
    @public
    def login_code() -> Any:
        return auth.login_code()

    views = sso.build(app, db, settings, auth.start_session)
    if views is not None:
        bp.add_url_rule("/login/sso", "sso_start", public(views[0]))
        bp.add_url_rule("/login/sso/callback", "sso_callback", public(views[1]))

    @bp.route("/logout", methods=["POST"])
    @roles(*Role)
    def logout() -> Any:
        return auth.logout()

    app.register_blueprint(bp)
    app.before_request(auth.enforce_access)

    @app.context_processor
    def _user() -> dict[str, Any]:
        return {"user": g.get("user"), "sso_enabled": views is not None}
