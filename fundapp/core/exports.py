"""Exports are data, never formulas: the one way every CSV and XLSX file of the fund is written.

Text a person typed (a project title, a city's name, a reviewer's comment) may begin like a
spreadsheet formula: `=HYPERLINK("http://evil.example","x")` would become a live link in a
donor's spreadsheet. Following OWASP's CSV-injection guidance, every text cell beginning with
`=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'` in CSV, and every
text cell is written as a string cell (with Excel's quote prefix when it could read as a
formula) in XLSX. Numbers stay numbers: ints and Decimals (negative ones included) are written
plain in CSV and as number cells in XLSX; dates stay dates.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from openpyxl.cell.cell import Cell

# The characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

NUMBER_TYPES = (int, float, Decimal)
DATE_TYPES = (date, datetime)


def _is_number(value):
    return isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)


def neutralise(text):
    """A text made inert for a spreadsheet: a leading `'` when it starts like a formula."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value):
    """One CSV cell: numbers and dates as they are, None empty, any other value as neutral text."""
    if value is None:
        return ""
    if _is_number(value):
        return value
    if isinstance(value, DATE_TYPES):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return neutralise(value)


class CsvWriter:
    """csv.writer whose every row goes through csv_cell()."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **kwargs):
    return CsvWriter(out, **kwargs)


def csv_text(rows):
    """The CSV file (a str with a BOM, so that spreadsheets read it as UTF-8) of these rows."""
    out = io.StringIO()
    csv_writer(out).writerows(rows)
    return "\ufeff" + out.getvalue()


def xlsx_cell(sheet, value):
    """One openpyxl cell: numbers and dates as such, everything else a string cell (never a
    formula nor an error code), with the quote prefix when it starts like a formula."""
    if value is None or _is_number(value) or isinstance(value, DATE_TYPES):
        return Cell(sheet, value=value)
    text = str(value)
    cell = Cell(sheet, value=text)
    cell.data_type = "s"  # openpyxl reads a leading "=" as a formula and "#N/A" as an error
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True  # and Excel keeps it text even when the cell is edited
    return cell


def xlsx_append(sheet, row):
    """Append a row of values to an openpyxl worksheet through xlsx_cell()."""
    sheet.append([xlsx_cell(sheet, value) for value in row])
