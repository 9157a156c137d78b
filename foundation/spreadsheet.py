"""CSV cells a spreadsheet will not run (pure): OWASP's CSV injection defence.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``, ``@SUM(...)``,
``-2+3``); a leading apostrophe makes it text, which the spreadsheet shows without the
apostrophe. Numbers are left alone (a negative longitude stays a number): only text is ever
a formula. https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` as a CSV cell: None becomes "", text that a spreadsheet would take for a
    formula gets a leading apostrophe, anything else is unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
