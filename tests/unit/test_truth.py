"""The queue_log reading the real-Asterisk tests take as the truth: a blind transfer's end,
logged after the caller's entry into the next queue (app_queue logs it from a later
message), still ends the first queue's call, not the second's."""

from __future__ import annotations

from pathlib import Path

from tests.support.truth import truth

LOG = """\
100|CLI|citywide|100|ADDMEMBER|
101|9.1|citywide|NONE|ENTERQUEUE|direct|+12125550143|1
101|9.1|citywide|100|CONNECT|0|9.2|0
103|9.1|noise|NONE|ENTERQUEUE|transfer|+12125550143|1
103|9.1|citywide|100|BLINDTRANSFER|queue-noise|from-internal|0|2|1
103|9.1|noise|101|CONNECT|0|9.3|0
105|9.1|noise|101|COMPLETEAGENT|0|2|1
"""


def test_a_late_transfer_line_ends_the_first_queue_entry(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text(LOG)
    calls = truth(log)
    assert calls["9.1"]["queue"] == "citywide" and calls["9.1"]["outcome"] is not None
    assert (calls["9.1"]["talk_s"], calls["9.1"]["agent"]) == (2, "100")
    assert (calls["9.1#2"]["queue"], calls["9.1#2"]["agent"]) == ("noise", "101")
    assert calls["9.1#2"]["talk_s"] == 2
