"""The web process: the Flask app under gunicorn (threads: SSE streams stay cheap)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from foundation.settings import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(settings: Settings, host: str, port: int) -> None:
    from center.web import create_app

    app = create_app(settings)
    options = {
        "bind": f"{host}:{port}",
        "workers": settings.web_workers,
        "worker_class": "gthread",
        "threads": settings.web_threads,
        "timeout": 0,  # server-sent event streams stay open
        "graceful_timeout": 5,
        "accesslog": "-",
        "loglevel": settings.log_level.lower(),
    }
    _Gunicorn(app, options).run()
