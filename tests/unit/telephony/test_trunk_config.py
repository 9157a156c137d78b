"""The carrier trunk's settings and what pjsip.conf and extensions.conf are rendered from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from foundation.settings import Settings, load_settings
from telephony.install import locate
from telephony.render import render_all
from tests.unit.telephony.test_phone_accounts import of_type, sections

TRUNK: dict[str, Any] = {
    "host": "192.0.2.10", "username": "city311", "caller_id": "(410) 555-0300",
    "dids": {"410-555-0311": "311", "+14105550312": "express", "14105550313": "sanitation"},
}


def settings_with(tmp_path: Path, password: str | None = "carrier-secret-123",
                  **trunk: Any) -> Settings:
    if password:
        (tmp_path / "secrets.toml").write_text(f'trunk_password = "{password}"\n')
    return load_settings(data_dir=str(tmp_path), trunk={**TRUNK, **trunk})


def rendered(settings: Settings) -> dict[str, str]:
    return render_all(settings, locate(settings))


def test_a_registering_trunk_answers_challenges_and_knows_the_carrier_by_address(
        tmp_path: Path) -> None:
    conf = rendered(settings_with(tmp_path, codecs=["alaw"], match=["192.0.2.0/28"]))
    pjsip = conf["pjsip.conf"]
    reg = of_type(pjsip, "registration")["carrier-reg"]
    assert (reg["server_uri"], reg["client_uri"], reg["outbound_auth"]) == (
        "sip:192.0.2.10:5060", "sip:city311@192.0.2.10", "carrier-auth")
    auth = of_type(pjsip, "auth")["carrier-auth"]
    assert (auth["username"], auth["password"]) == ("city311", "carrier-secret-123")
    endpoint = of_type(pjsip, "endpoint")["carrier"]
    assert (endpoint["context"], endpoint["allow"], endpoint["outbound_auth"]) == (
        "civic311-carrier", "alaw", "carrier-auth")
    assert endpoint["send_connected_line"] == "no"
    assert of_type(pjsip, "identify")["carrier"]["match"] == "192.0.2.0/28"
    assert "res_pjsip_outbound_registration.so" in conf["modules.conf"]


def test_an_ip_authenticated_trunk_has_no_credentials(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, password=None, auth="ip", username=None)
    pjsip = rendered(settings)["pjsip.conf"]
    assert "carrier-reg" not in of_type(pjsip, "registration")
    assert "carrier-auth" not in of_type(pjsip, "auth")
    assert "outbound_auth" not in of_type(pjsip, "endpoint")["carrier"]
    assert of_type(pjsip, "identify")["carrier"]["match"] == "192.0.2.10"


def test_each_did_in_each_form_reaches_its_line(tmp_path: Path) -> None:
    conf = rendered(settings_with(tmp_path))["extensions.conf"]
    block = conf[conf.index("[civic311-carrier]"):conf.index("[civic311-carrier-in]")]
    for forms, line in ((("+14105550311", "14105550311", "4105550311"), "311"),
                        (("+14105550312", "14105550312", "4105550312"), "3111"),
                        (("+14105550313", "14105550313", "4105550313"), "queue-sanitation")):
        for form in forms:
            assert (f"exten => {form},1,Gosub(civic311-carrier-in,s,1({forms[0]}))\n"
                    f" same => n,Goto(civic311-inbound,{line},1)") in block
    out = conf[conf.index("[civic311-outbound-dial]"):]
    assert "Set(CALLERID(num)=+14105550300)" in out
    # no record, no call: except 911, dialled even when the record cannot be written
    assert 'GotoIf($["${OUT_ID}" = "" & "${OUT_KIND}" != "emergency"]?failed)' in out
    assert "include => civic311-outbound" in conf


def test_without_a_trunk_nothing_reaches_the_phone_network(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path))
    conf = rendered(settings)
    assert "[civic311-outbound]" not in conf["extensions.conf"]
    assert "include => civic311-outbound" not in conf["extensions.conf"]
    assert "carrier" not in [name for name, _ in sections(conf["pjsip.conf"])]


@pytest.mark.parametrize(("change", "words"), [
    ({"dids": {"4105550311": "nowhere"}}, "a line is 311, express or a queue"),
    ({"dids": {"555-0311": "311"}}, "is not a North American phone number"),
    ({"caller_id": "311"}, "caller_id"),
    ({"codecs": ["opus"]}, "trunk codecs"),
    ({"match": ["carrier.example"]}, "not an address or network"),
    ({"username": None}, "needs a username"),
])
def test_bad_trunk_settings_are_refused(tmp_path: Path, change: dict[str, Any],
                                        words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        settings_with(tmp_path, **change)


def test_a_registering_trunk_without_a_password_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="trunk_password"):
        settings_with(tmp_path, password=None)
