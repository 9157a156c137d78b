"""RFC 4733 key presses that Asterisk sees as distinct even when a digit repeats.

SIPp's stock ``dtmf_2833_<d>.pcap`` files carry one fixed RTP timestamp per digit, so the
second "9" of "99" looks like a retransmission of the first and Asterisk drops it. These
helpers copy the packets with a fresh RTP timestamp and sequence number for every press.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from telephony.sipp import dtmf_block, stock_pcap


def _restamp(src: Path, dst: Path, timestamp: int, seq: int) -> None:
    data = bytearray(src.read_bytes())
    off = 24
    first = True
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        pkt = off + 16
        ip = pkt + 14  # Ethernet
        udp = ip + (data[ip] & 15) * 4
        rtp = udp + 8
        struct.pack_into(">H", data, udp + 6, 0)  # no UDP checksum (allowed over IPv4)
        if first:
            first_seq = struct.unpack_from(">H", data, rtp + 2)[0]
            first = False
        old_seq = struct.unpack_from(">H", data, rtp + 2)[0]
        struct.pack_into(">H", data, rtp + 2, (seq + old_seq - first_seq) & 0xFFFF)
        struct.pack_into(">I", data, rtp + 4, timestamp & 0xFFFFFFFF)
        off = pkt + incl
    dst.write_bytes(bytes(data))


def unique_dtmf_block(workdir: Path) -> Callable[..., str]:
    """A drop-in for ``telephony.sipp.dtmf_block`` writing one restamped pcap per press."""
    workdir.mkdir(parents=True, exist_ok=True)
    counter = [0]

    def restamped(digit: str) -> Path:
        counter[0] += 1
        n = counter[0]
        pcap = workdir / f"press{n}.pcap"
        _restamp(stock_pcap(digit), pcap, timestamp=1_000_000 + n * 16_000,
                 seq=20_000 + n * 20)
        return pcap

    def block(digits: str, first_pause_ms: int, gap_ms: int = 400) -> str:
        return dtmf_block(digits, first_pause_ms, gap_ms, pcap=restamped)

    return block
