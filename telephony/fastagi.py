"""A hardened FastAGI server on panoramisk's request/reply parsing.

panoramisk 1.4 defects defended here (each has a regression test in
tests/integration/test_agi_server.py):

- a client that closes before sending its headers makes ``Application.handler`` spin the
  event loop at 100% CPU (``reader.read`` returns b"" forever): we read headers with
  ``readuntil`` under a timeout and drop the client on EOF;
- command failures come back as dicts with an ``error`` key: we raise ``AgiHangup`` or
  ``AgiError`` instead, so no handler can mistake a failure for a result;
- after the caller hangs up mid-command Asterisk writes an unsolicited ``HANGUP`` line,
  so every later reply answers the previous command: we consume that line, remember the
  hang-up, and refuse further commands except the ones allowed on a dead channel;
- ``200 result=-1`` (the caller hung up during a prompt, a digit wait or a recording) comes
  back as ``AGIAppError``: for those commands we raise ``AgiHangup``, not ``AgiError``;
- routes must be ``async def`` (panoramisk calls ``asyncio.coroutine``, gone in 3.11).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from panoramisk.utils import parse_agi_result

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 5.0
HEADER_LIMIT = 16 * 1024
MEDIA_COMMANDS = frozenset({"STREAM", "WAIT", "GET", "SAY", "RECORD", "CONTROL"})


class AgiHangup(Exception):
    """The caller hung up; the call is over."""


class AgiError(Exception):
    """Asterisk refused or failed a command."""


def quote(value: str) -> str:
    """An AGI argument in double quotes; CR/LF and quotes from callers cannot break out."""
    cleaned = "".join(ch for ch in str(value) if ch >= " " and ch != "\x7f")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiChannel:
    """One FastAGI session: typed commands over the socket Asterisk opened to us."""

    def __init__(self, headers: Mapping[str, str], reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, command_timeout_s: float = 300.0) -> None:
        self.headers = dict(headers)
        self._reader = reader
        self._writer = writer
        self._timeout = command_timeout_s
        self.hung_up = False
        self.opened_at = time.monotonic()
        self.first_command_at: float | None = None  # when our first command went out

    @property
    def uniqueid(self) -> str:
        return self.headers.get("agi_uniqueid", "")

    @property
    def caller_number(self) -> str:
        return self.headers.get("agi_callerid", "")

    async def _readline(self) -> str:
        line = await asyncio.wait_for(self._reader.readline(), self._timeout)
        if not line:
            self.hung_up = True
            raise AgiHangup("connection closed by Asterisk")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    async def command(self, command: str) -> dict[str, Any]:
        """Send one AGI command and return its parsed 200 reply."""
        if self.hung_up:
            raise AgiHangup(f"caller gone before {command.split()[0]}")
        if self.first_command_at is None:
            self.first_command_at = time.monotonic()
        self._writer.write(command.encode() + b"\n")
        await self._writer.drain()
        line = await self._readline()
        while line == "HANGUP" or line.startswith("100 "):
            if line == "HANGUP":  # unsolicited: the reply to our command is still to come
                self.hung_up = True
            line = await self._readline()
        result = parse_agi_result(line)
        if result.get("error") == "AGIUsageError":
            result["msg"] += await self._readline()
        if self.hung_up or result.get("error") == "AGIResultHangup":
            self.hung_up = True
            raise AgiHangup(command.split()[0])
        if result.get("status_code") == 511:  # command not permitted on a dead channel
            self.hung_up = True
            raise AgiHangup(command.split()[0])
        if result.get("error") == "AGIAppError" and command.split()[0] in MEDIA_COMMANDS:
            # "200 result=-1" from a prompt, a digit wait or a recording: the caller hung up
            # (panoramisk reports it as an application error, which it is not)
            self.hung_up = True
            raise AgiHangup(command.split()[0])
        if "error" in result:
            raise AgiError(f"{command.split()[0]}: {result['error']} {result.get('msg', '')}")
        return dict(result)

    @staticmethod
    def _value(result: dict[str, Any]) -> str:
        return str(result.get("result", ("", ""))[0])

    @staticmethod
    def _data(result: dict[str, Any]) -> str:
        return str(result.get("result", ("", ""))[1] or "")

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def stream_file(self, path: str, escape_digits: str = "") -> str | None:
        """Play a sound (path without extension); returns the digit that interrupted it."""
        result = await self.command(f"STREAM FILE {quote(path)} {quote(escape_digits)}")
        code = int(self._value(result) or 0)
        return chr(code) if code > 0 else None

    async def get_data(self, path: str, timeout_ms: int, max_digits: int) -> str:
        """Play a prompt and collect up to max_digits (ends early on #); '' on timeout."""
        result = await self.command(f"GET DATA {quote(path)} {timeout_ms} {max_digits}")
        value = self._value(result)
        return "" if value in ("", "-1") else value

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        code = int(self._value(await self.command(f"WAIT FOR DIGIT {timeout_ms}")) or 0)
        return chr(code) if code > 0 else None

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None:
        safe = "".join(ch for ch in digits if ch.isdigit())
        code = int(self._value(await self.command(f"SAY DIGITS {safe} {quote(escape_digits)}")))
        return chr(code) if code > 0 else None

    async def say_number(self, number: int, escape_digits: str = "") -> str | None:
        code = int(self._value(await self.command(f"SAY NUMBER {int(number)} "
                                                  f"{quote(escape_digits)}")))
        return chr(code) if code > 0 else None

    async def say_date(self, epoch_s: int, escape_digits: str = "",
                       fmt: str = "ABdY", tz: str = "UTC") -> str | None:
        """Say a date with Asterisk's own sound files (SAY DATETIME)."""
        result = await self.command(
            f"SAY DATETIME {int(epoch_s)} {quote(escape_digits)} {quote(fmt)} {quote(tz)}")
        code = int(self._value(result) or 0)
        return chr(code) if code > 0 else None

    async def set_variable(self, name: str, value: str) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad channel variable name {name!r}")
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        result = await self.command(f"GET VARIABLE {quote(name)}")
        return self._data(result) if self._value(result) == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        """Evaluate a dialplan expression such as ``${QUEUE_WAITING_COUNT(citywide)}``."""
        result = await self.command(f"GET FULL VARIABLE {quote(expression)}")
        return self._data(result) if self._value(result) == "1" else None

    async def exec(self, app: str, args: str = "") -> str:
        value = self._value(await self.command(f"EXEC {app} {quote(args)}"))
        if value == "-2":
            raise AgiError(f"EXEC {app}: application not found")
        return value

    async def verbose(self, message: str) -> None:
        await self.command(f"VERBOSE {quote(message)} 1")

    async def set_language(self, language: str) -> None:
        if not language.replace("_", "").isalnum():
            raise ValueError(f"bad language {language!r}")
        await self.command(f"SET VARIABLE CHANNEL(language) {quote(language)}")


Handler = Callable[[AgiChannel], Awaitable[None]]
# observe(route, outcome, duration_s, first_command_s): one call per FastAGI request, once
# it ends; outcome ok | hangup | error | no_route | dropped (route "" when never read);
# first_command_s is how long Asterisk waited for our first command (None: none was sent).
Observer = Callable[[str, str, float, float | None], None]


class FastAgiServer:
    """Routes ``agi://host:port/<route>`` to async handlers; one task per call."""

    def __init__(self, routes: Mapping[str, Handler], host: str = "127.0.0.1", port: int = 4573,
                 header_timeout_s: float = HEADER_TIMEOUT_S,
                 observe: Observer | None = None) -> None:
        for name, handler in routes.items():
            if not inspect.iscoroutinefunction(getattr(handler, "__call__", handler)) and not (  # noqa: B004
                    inspect.iscoroutinefunction(handler)):
                raise TypeError(f"FastAGI route {name!r} must be an async function")
        self.routes = dict(routes)
        self.host, self.port = host, port
        self.header_timeout_s = header_timeout_s
        self.observe = observe
        self.server: asyncio.AbstractServer | None = None
        self.active = 0
        self.served = 0
        self.dropped = 0

    async def __aenter__(self) -> FastAgiServer:
        self.server = await asyncio.start_server(self.handle, self.host, self.port,
                                                 limit=HEADER_LIMIT, reuse_address=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def read_headers(self, reader: asyncio.StreamReader) -> dict[str, str] | None:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\n\n"), self.header_timeout_s)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ConnectionError):
            return None
        headers = {}
        for line in raw.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                headers[key.strip()] = value.strip()
        return headers

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.active += 1
        started = time.monotonic()
        route, outcome, channel = "", "dropped", None
        try:
            headers = await self.read_headers(reader)
            if headers is None:
                self.dropped += 1
                return
            requested = headers.get("agi_network_script", "").split("?")[0].strip("/")
            handler = self.routes.get(requested)
            if handler is None:
                log.error("FastAGI: no route %r", requested)
                outcome = "no_route"  # the label stays "": a caller-chosen route is unbounded
                return
            route, channel = requested, AgiChannel(headers, reader, writer)
            try:
                await handler(channel)
                outcome = "ok"
            except AgiHangup:
                outcome = "hangup"
                log.debug("caller %s hung up in the IVR", channel.uniqueid)
            except Exception:
                outcome = "error"
                log.exception("IVR route %r failed for %s; the dialplan queues the call",
                              route, channel.uniqueid)
            self.served += 1
        finally:
            self.active -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            self._observe(route, outcome, started, channel)

    def _observe(self, route: str, outcome: str, started: float,
                 channel: AgiChannel | None) -> None:
        if self.observe is None:
            return
        first = (channel.first_command_at - channel.opened_at
                 if channel is not None and channel.first_command_at is not None else None)
        try:
            self.observe(route, outcome, time.monotonic() - started, first)
        except Exception:  # a metrics fault never touches a call
            log.exception("FastAGI observer failed")
