"""The outbound dial policy: what an agent may call, decided the way Asterisk picks a
pattern, and the same rules rendered into extensions.conf."""

from __future__ import annotations

import re

import pytest

from telephony.trunk.dial_policy import (
    RULES,
    Allowances,
    NumberKind,
    decide,
    dialled_digits,
    rule_for,
)

K = NumberKind


@pytest.mark.parametrize(("typed", "dial", "kind"), [
    ("911", "911", K.EMERGENCY),
    ("211", "211", K.SERVICE),
    ("311", "311", K.SERVICE),
    ("811", "811", K.SERVICE),
    ("(410) 555-0123", "4105550123", K.LOCAL),
    ("1 410 555 0123", "14105550123", K.LOCAL),
    ("+1 212 555 0100", "12125550100", K.LOCAL),
    ("800-555-0100", "8005550100", K.TOLL_FREE),
    ("1-888-555-0100", "18885550100", K.TOLL_FREE),
    ("833 555 0100", "8335550100", K.TOLL_FREE),
])
def test_always_allowed(typed: str, dial: str, kind: NumberKind) -> None:
    d = decide(typed, Allowances())
    assert (d.dial, d.kind, d.allowed) == (dial, kind, True)
    # even with nothing extra allowed, and 911 whatever an administrator set
    assert decide(typed, Allowances(international=True, premium=True)).allowed


@pytest.mark.parametrize(("typed", "dial", "kind"), [
    ("011 44 20 7946 0000", "011442079460000", K.INTERNATIONAL),
    ("+44 20 7946 0000", "011442079460000", K.INTERNATIONAL),
    ("900-555-0123", "9005550123", K.PREMIUM),
    ("1 900 555 0123", "19005550123", K.PREMIUM),
    ("410-976-1234", "4109761234", K.PREMIUM),  # a 976 exchange in any area code
    ("1-410-976-1234", "14109761234", K.PREMIUM),
])
def test_international_and_premium_need_an_administrator(typed: str, dial: str,
                                                         kind: NumberKind) -> None:
    refused = decide(typed, Allowances())
    assert (refused.dial, refused.kind, refused.allowed) == (dial, kind, False)
    assert "administrator" in refused.reason
    allow = Allowances(international=kind is K.INTERNATIONAL, premium=kind is K.PREMIUM)
    assert decide(typed, allow).allowed
    other = Allowances(international=kind is K.PREMIUM, premium=kind is K.INTERNATIONAL)
    assert not decide(typed, other).allowed  # one allowance does not open the other


@pytest.mark.parametrize("typed", ["", "abc", "12345", "0", "1105550123", "4101550123",
                                   "41055501234", "555-0123", "*69", "911#"])
def test_what_is_no_number_is_refused(typed: str) -> None:
    d = decide(typed, Allowances(international=True, premium=True))
    assert (d.kind, d.allowed) == (K.INVALID, False)


def test_dialled_digits() -> None:
    assert dialled_digits("+1 (410) 555-0123") == "14105550123"
    assert dialled_digits("+52 55 1234 5678") == "0115255 12345678".replace(" ", "")
    assert dialled_digits("call me") is None


def asterisk_match(pattern: str, digits: str) -> bool:
    """Asterisk's pattern language, written out independently of dial_policy's."""
    if not pattern.startswith("_"):
        return pattern == digits
    regex = ""
    for c in pattern[1:]:
        regex += {"N": "[2-9]", "X": "[0-9]", "Z": "[1-9]", ".": "[0-9]+"}.get(c, c)
    return re.fullmatch(regex, digits) is not None


@pytest.mark.parametrize("digits", ["911", "311", "4105550123", "14105550123", "8005550100",
                                    "18775550100", "9005550123", "19005550123", "4109761234",
                                    "011442079460000", "12345"])
def test_the_rule_is_one_whose_pattern_matches(digits: str) -> None:
    rule = rule_for(digits)
    assert rule is not None and asterisk_match(rule.extension, digits)
    # and no narrower pattern matches: a literal beats N, N beats X, X beats "."
    literal = [r for r in RULES if r.extension == digits]
    if literal:
        assert rule is literal[0]


def test_rendered_dialplan_refuses_what_the_policy_refuses(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from foundation.settings import load_settings
    from telephony.install import locate
    from telephony.render import render_all

    (tmp_path / "secrets.toml").write_text('trunk_password = "carrier-secret-123"\n')
    trunk = {"host": "192.0.2.10", "username": "city", "caller_id": "410-555-0300",
             "allow_premium": True}
    settings = load_settings(data_dir=str(tmp_path), trunk=trunk)
    conf = render_all(settings, locate(settings))["extensions.conf"]
    block = conf[conf.index("[civic311-outbound]"):conf.index("[civic311-outbound-dial]")]
    goes = dict(re.findall(r"exten => (\S+),1,Set\(OUT_KIND=\w+\)\n same => n,Set\("
                           r"OUT_DIALLED=\$\{EXTEN\}\)\n same => n,(?:Set\(OUT_TO=\S+\)\n"
                           r" same => n,)?Goto\((civic311-outbound-\w+)", block))
    assert len(goes) == len(RULES)
    for rule in RULES:
        expected = ("civic311-outbound-dial" if rule.kind not in (K.INTERNATIONAL, K.INVALID)
                    else "civic311-outbound-refused")
        assert goes[rule.extension] == expected, rule
