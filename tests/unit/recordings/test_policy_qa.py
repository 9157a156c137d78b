"""Pure rules of the recordings capability: policy and sampling, QA scores and spread,
random samples, trends, retention, the spy request checks."""

from __future__ import annotations

import random
import re
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recordings.audio import RecordingDefect, inspect
from recordings.monitor import MODES, MonitorError, validate
from recordings.policy import PolicyError, RecordingPolicy, bucket, parse_form, should_record
from recordings.qa.rules import (
    Criterion,
    QaError,
    draw,
    month_of,
    monthly_means,
    spread,
    trend,
    validate_criteria,
    weighted_score,
)
from recordings.retention import Candidate, expired

EXTENSIONS = Path(__file__).resolve().parents[3] / "asterisk_conf" / "templates" / \
    "extensions.conf.j2"


def dialplan_bucket_rule(seq: int, pct: int) -> bool:
    """The [civic311-record] rule, evaluated as Asterisk does: h * 100 < pct * 65536."""
    h = (seq * 40503) % 65536
    return not h * 100 >= pct * 65536


def test_sampling_rule_matches_the_dialplan_and_the_percentage() -> None:
    text = EXTENSIONS.read_text()  # the rule above is the one the dialplan runs
    assert "Set(LOCAL(h)=$[(${CUT(id,.,2)} * 40503) % 65536])" in text
    assert "GotoIf($[${h} * 100 >= ${pct} * 65536]?done)" in text
    for pct in (0, 1, 10, 33, 50, 99, 100):
        policy = RecordingPolicy("q", mode="sample", sample_pct=pct)
        picked = [should_record(policy, f"1700000000.{n}") for n in range(0, 20000)]
        assert picked == [dialplan_bucket_rule(n, pct) for n in range(0, 20000)]
        assert abs(sum(picked) / len(picked) - pct / 100) < 0.01
        # uniqueids advance by the number of channels per call: still the right share
        for stride in (2, 3, 4, 10):
            share = sum(picked[::stride]) / len(picked[::stride])
            assert abs(share - pct / 100) < 0.02, (pct, stride, share)


def test_policy_modes_and_bad_input() -> None:
    assert RecordingPolicy("q").record_pct == 100
    assert RecordingPolicy("q", mode="none", sample_pct=80).record_pct == 0
    assert RecordingPolicy("q", mode="sample", sample_pct=25).record_pct == 25
    assert bucket("no-dot-here") == 0 and 0 <= bucket("1.99999") < 100
    p = parse_form("q", {"mode": "sample", "sample_pct": "20", "retention_days": "90",
                         "beep": "on"})
    assert p == RecordingPolicy("q", "sample", 20, 90, True)
    for bad in ({"mode": "some"}, {"mode": "sample", "sample_pct": "101"},
                {"mode": "all", "retention_days": "0"}, {"mode": "all", "sample_pct": "x"}):
        with pytest.raises(PolicyError):
            parse_form("q", bad)


CRIT = [Criterion("Greeting", 15, 5), Criterion("Accuracy", 30, 5), Criterion("Closing", 5, 2)]


def test_weighted_score_and_its_errors() -> None:
    assert weighted_score(CRIT, {"Greeting": 5, "Accuracy": 5, "Closing": 2}) == 100.0
    assert weighted_score(CRIT, {"Greeting": 0, "Accuracy": 0, "Closing": 0}) == 0.0
    # (15*4/5 + 30*2/5 + 5*1/2) / 50 = 26.5 / 50
    assert weighted_score(CRIT, {"Greeting": 4, "Accuracy": 2, "Closing": 1}) == 53.0
    with pytest.raises(QaError, match="Closing"):
        weighted_score(CRIT, {"Greeting": 4, "Accuracy": 2, "Closing": 3})
    with pytest.raises(QaError, match="no points"):
        weighted_score(CRIT, {"Greeting": 4})
    for rows in ([], [Criterion("", 1, 5)], [Criterion("A", 0, 5)], [Criterion("A", 1, 11)],
                 [Criterion("A", 1, 5), Criterion("a", 2, 5)],
                 [Criterion("A", float("nan"), 5)]):
        with pytest.raises(QaError):
            validate_criteria(rows)


def test_spread_draw_and_trends() -> None:
    s = spread([70.0, 80.0, 90.0])
    assert s is not None and (s.n, s.mean, s.low, s.high, s.range) == (3, 80.0, 70.0, 90.0, 20.0)
    assert s.stdev == 8.16 and spread([]) is None
    cands = {"100": list(range(10)), "101": [20, 21], "102": []}
    got = draw(cands, {"100": 1}, 3, random.Random(7))
    assert len(got["100"]) == 2 and set(got["100"]) <= set(range(10))
    assert got["101"] == [20, 21] and "102" not in got
    assert draw(cands, {"100": 3, "101": 3}, 3, random.Random(7)) == {}
    seen = {tuple(draw(cands, {}, 2, random.Random(seed))["100"]) for seed in range(30)}
    assert len(seen) > 10  # random, not always the first calls
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # still November in New York
    assert month_of(at, "America/New_York") == "2026-11"
    means = monthly_means([("a", "2026-10", 50), ("a", "2026-11", 80), ("a", "2026-11", 90)])
    assert means == {"a": {"2026-10": 50.0, "2026-11": 85.0}}
    assert trend(means["a"]) == 35.0 and trend({"2026-11": 3.0}) is None


def test_retention_rule() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    pol = {"a": RecordingPolicy("a", retention_days=30)}
    items = [Candidate(1, "a", now - timedelta(days=31), False, False),
             Candidate(2, "a", now - timedelta(days=29), False, False),
             Candidate(3, "a", now - timedelta(days=31), True, False),
             Candidate(4, "a", now - timedelta(days=31), False, True),
             Candidate(5, "b", now - timedelta(days=366), False, False),  # default 365 days
             Candidate(6, "b", now - timedelta(days=364), False, False)]
    assert expired(items, pol, now) == [1, 5]


def test_audio_facts(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * 12000)
    facts = inspect(path)
    assert facts.duration_s == 1.5 and facts.size_bytes == path.stat().st_size
    assert re.fullmatch(r"[0-9a-f]{64}", facts.sha256)
    (tmp_path / "b.wav").write_bytes(b"")
    with pytest.raises(RecordingDefect):
        inspect(tmp_path / "b.wav")
    with wave.open(str(tmp_path / "c.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
    with pytest.raises(RecordingDefect, match="no audio"):
        inspect(tmp_path / "c.wav")


def test_spy_request_checks() -> None:
    assert validate("107", "100", "whisper", ["100", "107"]) == ("107", "100", "whisper")
    for args in (("107", "100", "shout"), ("", "100", "listen"), ("107", "107", "barge"),
                 ("107", "1\r\n00", "listen"), ("107", "999", "listen")):
        with pytest.raises(MonitorError):
            validate(*args, known=["100", "107"])
    assert MODES == {"listen": "qbES", "whisper": "qbESw", "barge": "qbESB"}
    text = EXTENSIONS.read_text()
    for mode, opts in MODES.items():  # the dialplan runs exactly these options
        assert f"exten => {mode},1,ChanSpy(PJSIP/agent${{FILTER(0-9,${{SPY_AGENT}})}}-,{opts})" \
            in text
