"""The telephony daemon's object graph: acd's AMI bridge and recorder, with the FastAGI routes
of the IVR (menu, callback, announcements), of recordings (post-call survey), of the carrier
trunk (caller ID in E.164) and of outbound calls, and callback origination."""

from __future__ import annotations

import asyncio
import signal

from acd.daemon import Daemon
from acd.outbound.agi import OutboundAgi
from foundation.db import Database
from foundation.settings import Settings
from ivr.announce_agi import AnnounceAgi
from ivr.callback.agi import CallbackAgi
from ivr.callback.runner import CallbackRunner
from ivr.menu_agi import IvrHandler
from recordings.survey import SurveyAgi
from telephony.install import Install, locate
from telephony.trunk.agi import TrunkAgi


def build_daemon(settings: Settings, db: Database, install: Install | None = None) -> Daemon:
    install = install or locate(settings)
    daemon = Daemon(settings, db, install, agi_routes={
        "ivr": IvrHandler(settings, db, install),
        "callback": CallbackAgi(settings, db, install),
        "survey": SurveyAgi(db, install),
        "announce": AnnounceAgi(install),
        "trunk": TrunkAgi(),
        "outbound": OutboundAgi(settings, db),
    })
    daemon.tick_hooks.append(CallbackRunner(daemon.bridge, db).tick)
    return daemon


def run_daemon(settings: Settings) -> None:
    db = Database(settings.db_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await build_daemon(settings, db).run(stop)

    try:
        asyncio.run(main())
    finally:
        db.dispose()
