"""CSV iteration data read as Newman reads it (``newman/lib/run/options.js``, csv-parse).

Newman calls csv-parse with ``columns: true, trim: true, relax: true, relax_column_count: true,
bom: true`` and a ``cast`` that leaves quoted cells alone and turns the others into numbers by
``util.isInt`` (``/^(-|\\+)?([1-9]+[0-9]*)$/``, then ``parseInt``) or ``util.isFloat``
(``value - parseFloat(value) + 1 >= 0``, then ``parseFloat``). Records are split by ``csv.reader``;
it forgets whether a cell was quoted, so each record's own lines (``reader.line_num``) are split at
the delimiters that lie outside quotes to learn that.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["parse_csv_records"]

_INT = re.compile(r"[-+]?[1-9][0-9]*")  # newman util.isInt
_DECIMAL = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER_LITERAL = re.compile(rf"[-+]?(?:{_DECIMAL}|Infinity)|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
_FLOAT_PREFIX = re.compile(rf"[-+]?(?:Infinity|{_DECIMAL})")


def _js_number(text: str) -> float:
    """JavaScript ``Number(text)`` for a trimmed string (NaN when it is not a number literal)."""
    if text == "":
        return 0.0
    if not _NUMBER_LITERAL.fullmatch(text):
        return math.nan
    if text[:2].lower() in ("0x", "0o", "0b"):
        return float(int(text, 0))
    return float(text.replace("Infinity", "inf"))


def _js_parse_float(text: str) -> float:
    """JavaScript ``parseFloat(text)``: the longest decimal prefix, NaN when there is none."""
    match = _FLOAT_PREFIX.match(text.lstrip())
    return float(match.group(0).replace("Infinity", "inf")) if match else math.nan


def _as_js_number(number: float) -> int | float:
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def cast_cell(cell: str, quoted: bool) -> Any:
    """Newman's ``csvAutoParse``: quoted cells stay text, others become numbers where JS would."""
    if quoted:
        return cell
    if _INT.fullmatch(cell):
        return int(cell)
    parsed = _js_parse_float(cell)
    if _js_number(cell) - parsed + 1 >= 0:  # NaN compares false, as in JS
        return _as_js_number(parsed)
    return cell


def _quoted_flags(record_text: str, delimiter: str = ",") -> list[bool]:
    """Whether each cell of one record's source text starts with a quote (after leading blanks).

    Splitting at every delimiter and gluing pieces back while their quotes are unbalanced gives the
    cells of a well-formed record; a record where that fails is recognised by its cell count.
    """
    cells: list[str] = []
    for piece in record_text.split(delimiter):
        if cells and cells[-1].count('"') % 2:
            cells[-1] += delimiter + piece
        else:
            cells.append(piece)
    return [cell.lstrip(" \t").startswith('"') for cell in cells]


def parse_csv_records(lines: Iterable[str], max_rows: int | None = None) -> list[dict[str, Any]]:
    """CSV lines (BOM already stripped; a file, a generator or ``io.StringIO(text, newline="")``) to a
    list of row objects keyed by the header row, reading no further than ``max_rows`` rows.

    Blank lines are skipped, short rows keep only the columns they have and long rows drop the extra
    cells (``relax_column_count``); cells are trimmed. Raises ``csv.Error`` for unreadable CSV.
    """
    consumed: list[str] = []  # the source lines of the record csv.reader is reading

    def tracked() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line

    header: list[str] | None = None
    rows: list[dict[str, Any]] = []
    for row in csv.reader(tracked(), skipinitialspace=True, strict=False):
        source, consumed[:] = "".join(consumed).rstrip("\r\n"), []
        if not any(cell.strip() for cell in row):
            continue
        quoted = _quoted_flags(source)
        if len(quoted) != len(row):  # a shape the split does not follow: cast nothing rather than guess
            quoted = [True] * len(row)
        if header is None:
            header = [cell.strip() for cell in row]
            continue
        rows.append({key: cast_cell(cell.strip(), was) for key, cell, was in zip(header, row, quoted, strict=False)})
        if max_rows is not None and len(rows) >= max_rows:
            break
    return rows
