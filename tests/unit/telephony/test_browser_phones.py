"""Browser phones (WebRTC): each agent's own WebRTC endpoint and AOR beside the desk phone's,
the resident training phone, the WebSocket transports and Asterisk's HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.settings import Settings, load_settings
from telephony import phones
from telephony.install import Install
from telephony.render import render_all
from tests.unit.telephony.test_phone_accounts import of_type


def rendered(settings: Settings, tmp_path: Path) -> dict[str, str]:
    install = Install(None, tmp_path / "etc", tmp_path / "log", tmp_path / "run",
                      tmp_path / "sounds", tmp_path / "spool")
    return render_all(settings, install)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=str(tmp_path / "data"), agent_count=2, http_port=18088)


def test_each_agent_has_a_webrtc_endpoint_with_its_own_password(
        tmp_path: Path, settings: Settings) -> None:
    text = rendered(settings, tmp_path)["pjsip.conf"]
    endpoints, auths, aors = (of_type(text, k) for k in ("endpoint", "auth", "aor"))
    for ext, password in settings.agent_sip_passwords.items():
        user = phones.webrtc_user(ext)
        assert user == f"agent{ext}-webrtc"
        ep = endpoints[user]
        assert (ep["webrtc"], ep["dtls_auto_generate_cert"], ep["context"]) == (
            "yes", "yes", "civic311-agents")
        assert ep["auth"] == f"{user}-auth" and ep["aors"] == user
        assert auths[f"{user}-auth"]["username"] == user
        assert auths[f"{user}-auth"]["password"] == password
        assert (aors[user]["max_contacts"], aors[user]["remove_existing"]) == ("1", "yes")
        assert "webrtc" not in endpoints[f"agent{ext}"]  # the desk phone stays plain RTP
    training = endpoints[phones.TRAINING_PHONE_USER]
    assert (training["webrtc"], training["context"]) == ("yes", "civic311-inbound")
    assert auths["resident-webrtc-auth"]["password"] == settings.sip_secret


def test_ws_on_the_local_http_server_wss_only_with_tls(tmp_path: Path,
                                                       settings: Settings) -> None:
    files = rendered(settings, tmp_path)
    assert "transport-wss" not in of_type(files["pjsip.conf"], "transport")
    http = files["http.conf"]
    assert "bindaddr = 127.0.0.1" in http and "bindport = 18088" in http
    assert "tlsenable" not in http
    assert "load => res_http_websocket.so" in files["modules.conf"]
    assert phones.websocket_url(settings) == "ws://127.0.0.1:18088/ws"

    tls = settings.model_copy(update={"sip_tls_cert_file": Path("/etc/ssl/pbx.pem"),
                                      "sip_tls_key_file": Path("/etc/ssl/pbx.key"),
                                      "sip_server": "pbx.city.example", "https_port": 8443})
    files = rendered(tls, tmp_path)
    assert of_type(files["pjsip.conf"], "transport")["transport-wss"]["protocol"] == "wss"
    assert "tlsenable = yes" in files["http.conf"]
    assert "tlscertfile = /etc/ssl/pbx.pem" in files["http.conf"]
    assert phones.websocket_url(tls) == "wss://pbx.city.example:8443/ws"


def test_the_browser_phone_account(settings: Settings) -> None:
    got = phones.browser_phone(settings, "101").as_dict()
    assert got == {"user": "agent101-webrtc", "password": settings.agent_sip_passwords["101"],
                   "domain": "127.0.0.1", "websocket": "ws://127.0.0.1:18088/ws"}
    with pytest.raises(phones.UnknownAgent):
        phones.browser_phone(settings, "999")
