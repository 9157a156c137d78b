"""The retry policy every claim loop shares, and the one rule for mail header values (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from foundation import retry
from foundation.header_values import email_problem, one_line

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _raise(exc: BaseException) -> None:
    raise exc


def test_an_attempt_never_raises() -> None:
    assert retry.attempt(lambda: 7, (OSError,)).value == 7
    expected = retry.attempt(lambda: _raise(OSError("down")), (OSError,))
    assert (expected.ok, expected.error, expected.permanent, expected.expected) == \
        (False, "down", False, True)
    refused = retry.attempt(lambda: _raise(retry.Permanent("bad address")), (OSError,))
    assert refused.permanent and refused.error == "bad address"
    defect = retry.attempt(lambda: _raise(KeyError("x")), (OSError,))
    assert not defect.ok and not defect.expected and defect.error == "KeyError: 'x'"
    long = retry.attempt(lambda: _raise(OSError("x" * 2000)), (OSError,))
    assert len(long.error or "") == retry.ERROR_CHARS


def test_backoff_doubles_and_is_capped() -> None:
    b = retry.Backoff(base_s=30, cap_s=3600)
    assert [b.delay(n).total_seconds() for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]
    assert b.next_attempt(2, NOW) == NOW + timedelta(seconds=60)
    assert retry.exhausted(10, 10) and not retry.exhausted(9, 10)


INJECTED = "ana@example.org\r\nBcc: everyone@example.org"


@pytest.mark.parametrize("value", [
    INJECTED, "ana@example.org\n", "ana@exam\x00ple.org", "no-at-sign.example.org",
    "two@@example.org", "ana@localhost", "a b@example.org", "x" * 250 + "@example.org",
    "<ana@example.org>", "ana@-example.org"])
def test_bad_addresses(value: str) -> None:
    assert email_problem(value)


def test_real_addresses_and_one_line() -> None:
    for ok in ("ana@example.org", "o'brien+311@mail.civic.example", "josé@correo.example.es",
               "streets-supervisor@dot.civic.example"):
        assert email_problem(ok) is None, ok
    assert "line breaks" in (email_problem(INJECTED) or "")
    assert one_line("Request 1\r\nBcc: x") == "Request 1  Bcc: x"
