"""The recording SID civic311 deletes at Twilio is read from the URL Twilio gave, and only
a real SID is ever put in a DELETE."""

from __future__ import annotations

import pytest

from foundation import retry
from foundation.twilio_rest import Rest, recording_sid

SID = "RE" + "0123456789abcdef" * 2
BASE = "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32


@pytest.mark.parametrize("url", [f"{BASE}/Recordings/{SID}", f"{BASE}/Recordings/{SID}.wav",
                                 f"{BASE}/Recordings/{SID}.json?x=1", f"{BASE}/Recordings/{SID}/"])
def test_the_sid_is_read_from_twilio_recording_urls(url: str) -> None:
    assert recording_sid(url) == SID


@pytest.mark.parametrize("url", ["", "https://api.twilio.com/RE9", f"{BASE}/Calls/{SID}x",
                                 f"{BASE}/Recordings/{SID}/Transcriptions/TR1",
                                 f"{BASE}/Recordings/RE123"])
def test_a_url_naming_no_recording_gives_no_sid(url: str) -> None:
    assert recording_sid(url) == ""


@pytest.mark.parametrize("bad", ["", "RE123", SID + "/../Calls", "CA" + SID[2:]])
def test_no_delete_is_sent_for_something_that_is_not_a_sid(bad: str) -> None:
    rest = Rest("http://127.0.0.1:9", "AC" + "1" * 32, ("AC", "token"))  # never reached
    with pytest.raises(retry.Permanent):
        rest.delete_recording(bad)
