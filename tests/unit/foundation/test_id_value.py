"""``foundation.web.id_value``: what a typed row id may be (the edge rule the fuzz tiers hold)."""

from __future__ import annotations

import pytest

from foundation.web import ID_MAX, id_value


@pytest.mark.parametrize("raw", ["²", "١٢", "-1", "+1", " 1", "1.0", "", None, "0x1F",
                                 str(ID_MAX + 1), str(10**30), "1" * 40])
def test_anything_but_ascii_digits_within_an_integer_column_names_no_row(raw: str | None) -> None:
    assert id_value(raw) is None


def test_ascii_digits_within_the_column_are_the_id() -> None:
    assert [id_value(v) for v in ("0", "7", "007", str(ID_MAX))] == [0, 7, 7, ID_MAX]
