"""Migration 0502 moves the legal-hold reasons that older releases kept in the access log's
``byte_range`` into the new ``reason`` column; play and download ranges stay where they are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from center.schema import alembic_config


def test_hold_reasons_move_out_of_byte_range(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    cfg = alembic_config(f"sqlite:///{path}")
    command.upgrade(cfg, "0501_qa_surveys")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO recordings (id, uniqueid, queue, started_at, status, detail, "
                     "catalogued_at, legal_hold, hold_reason) VALUES (1, '1700000000.1', "
                     "'sanitation', '2026-01-05 09:00:00.000000', 'ok', '', "
                     "'2026-01-05 09:05:00.000000', 1, 'court order 12')")
        conn.executemany(
            "INSERT INTO recording_access_log (recording_id, username, role, action, at, "
            "remote_addr, byte_range) VALUES (1, 'supervisor1', 'supervisor', ?, "
            "'2026-01-05 10:00:00.000000', '127.0.0.1', ?)",
            [("play", "bytes=0-99"), ("hold", "court order 12"), ("release", ""),
             ("download", "")])
    command.upgrade(cfg, "heads")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT action, byte_range, reason FROM recording_access_log "
                            "ORDER BY id").fetchall()
    assert rows == [("play", "bytes=0-99", ""), ("hold", "", "court order 12"),
                    ("release", "", ""), ("download", "", "")]
    command.downgrade(cfg, "0501_qa_surveys")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT action, byte_range FROM recording_access_log "
                            "ORDER BY id").fetchall()
    assert rows == [("play", "bytes=0-99"), ("hold", "court order 12"), ("release", ""),
                    ("download", "")]
