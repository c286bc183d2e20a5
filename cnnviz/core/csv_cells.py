"""CSV that a spreadsheet opens as data: OWASP's CSV-injection rule for every export.

A spreadsheet reads a cell that begins with one of FORMULA_START as a formula (TAB and CR
too: some strip them first). Such a cell gets a leading apostrophe, which spreadsheets
show as text; a plain number (e.g. -3 or -1.5e+08) stays as it is.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A value safe to write as a CSV cell that a spreadsheet may open."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START) \
            or PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of a row through `csv_cell`."""
    return {key: csv_cell(value) for key, value in row.items()}


def csv_text(fields: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """Rows as CSV text (a header, then every cell neutralised), as the CLI writes it."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields))
    writer.writeheader()
    writer.writerows(csv_row(r) for r in rows)
    return out.getvalue()
