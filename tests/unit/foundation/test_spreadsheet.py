"""CSV formula injection (OWASP): text that a spreadsheet would run gets a leading apostrophe;
numbers and plain text stay as they are."""

from __future__ import annotations

import pytest

from foundation.spreadsheet import cell


@pytest.mark.parametrize(("value", "out"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+2", "'+1+2"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Main St", "Main St"), ("a=b", "a=b"), (-73.99, -73.99), (0, 0), (None, ""),
])
def test_formula_cells_become_text(value: object, out: object) -> None:
    assert cell(value) == out
