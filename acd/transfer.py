"""Transfer targets: how civic311 names where an agent sends a caller (pure).

A target is an extension of the dialplan context ``civic311-transfer``
(asterisk_conf/templates/extensions.conf.j2): ``queue-<name>`` (the caller queues again: a
new queued call, QueueMetrics' rule), ``agent-<ext>`` (that agent's phone rings) and
``ref-<number>`` (a referral: the caller leaves for an outside number, 911, 211, an agency's
public line). Blind transfers (AMI BlindTransfer, a desk phone's REFER) name it directly.
Attended ones (AMI Atxfer) can only send keypad digits, so they dial ``civic311-atxfer``:
an agent's extension, or ``9`` and the referral number. The record keeps the named target.
"""

from __future__ import annotations

import re
from enum import StrEnum

TRANSFER_CONTEXT = "civic311-transfer"
ATXFER_CONTEXT = "civic311-atxfer"
REFERRAL_PREFIX = "ref-"
ATXFER_REFERRAL_DIGIT = "9"
REFERRAL_CALL_TYPE = "referral"  # the wrap-up call type a referred call counts as

_NUMBER = re.compile(r"\+?[0-9]{3,15}")
_AGENT_CHANNEL = re.compile(r"^(?:PJSIP|SIP)/agent([0-9]+)(?:-[0-9a-f]+)?$")
_LOCAL = re.compile(r"^Local/([^@]+)@(.+?)(?:-[0-9a-f]{8})?(?:;[12])?$")  # exten, context


class TargetKind(StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    REFERRAL = "referral"


class TransferError(ValueError):
    """A transfer that cannot be asked for (bad target, no attended transfer to a queue)."""


def clean_number(raw: str) -> str:
    """A dialable number: digits with an optional leading +, 3 to 15 of them (911, E.164)."""
    number = re.sub(r"[\s().-]", "", raw or "")
    if not _NUMBER.fullmatch(number):
        raise TransferError(f"not a phone number: {raw!r}")
    return number


def blind_exten(kind: TargetKind, value: str) -> str:
    """The ``civic311-transfer`` extension of a target (BlindTransfer, REFER)."""
    if kind is TargetKind.QUEUE:
        if not re.fullmatch(r"[a-z0-9_]+", value or ""):
            raise TransferError(f"not a queue name: {value!r}")
        return f"queue-{value}"
    if kind is TargetKind.AGENT:
        if not (value or "").isdigit():
            raise TransferError(f"not an agent extension: {value!r}")
        return f"agent-{value}"
    return REFERRAL_PREFIX + clean_number(value).lstrip("+")


def attended_exten(kind: TargetKind, value: str) -> str:
    """The ``civic311-atxfer`` digits of a target (Atxfer sends them as keypad tones)."""
    if kind is TargetKind.QUEUE:
        raise TransferError("an attended transfer goes to a person: transfer to a queue blind")
    if kind is TargetKind.AGENT:
        return blind_exten(kind, value).removeprefix("agent-")
    return ATXFER_REFERRAL_DIGIT + clean_number(value).lstrip("+")


def target_of(raw: str) -> str:
    """The named target of what Asterisk reports: an extension of ``civic311-transfer``
    (kept), a Local channel into either transfer context, or an agent's channel."""
    raw = (raw or "").strip()
    local = _LOCAL.match(raw)
    if local:
        exten, context = local.groups()
        if context == ATXFER_CONTEXT:
            if exten.startswith(ATXFER_REFERRAL_DIGIT):
                return REFERRAL_PREFIX + exten[1:]
            return f"agent-{exten}"
        return exten
    agent = _AGENT_CHANNEL.match(raw)
    if agent:
        return f"agent-{agent.group(1)}"
    return raw


def kind_of(target: str | None) -> TargetKind | None:
    """Which kind of target a recorded one is (None: not one civic311 names)."""
    if not target:
        return None
    if target.startswith("queue-"):
        return TargetKind.QUEUE
    if target.startswith("agent-"):
        return TargetKind.AGENT
    if target.startswith(REFERRAL_PREFIX):
        return TargetKind.REFERRAL
    return None


def is_referral(target: str | None) -> bool:
    """True when the caller was sent to an outside number (the call type is then referral)."""
    return kind_of(target) is TargetKind.REFERRAL
