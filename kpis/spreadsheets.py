"""Reading actuals from a spreadsheet: CSV or XLSX, in long or wide format, into
`MeasurementRow`s. Nothing here touches the database.

- Long format: a header `kpi_code, period, value[, note]` (any order, case-insensitive), one
  measurement per row.
- Wide format: the first column `kpi_code` (then optionally `name`), every other header a period
  start date; one measurement per non-blank cell.

Row numbers are the ones the user sees in the sheet (the header is row 1); columns are named by
letter and header, e.g. "C (value)". Problems with the whole file raise `SpreadsheetError`;
problems with single cells (a formula without a value, formula-like text in a CSV) are returned
as `RowError`s next to the rows that could be read.

XLSX files are opened safely: the zip directory is checked before parsing (decompression bombs,
external links and macros are refused), and openpyxl reads in read-only mode the cached values,
never evaluating formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from openpyxl.utils import get_column_letter

from govern.errors import ApplicationError
from kpis.choices import ImportFormat
from kpis.services.measurements import MeasurementRow, RowError, parse_period

LONG_REQUIRED = ("kpi_code", "period", "value")
LONG_COLUMNS = (*LONG_REQUIRED, "note")
BOMB_CEILING = 100 * 1024 * 1024  # bytes unpacked, whatever the upload limit
FORMULA_PREFIXES = ("=", "+", "-", "@")
NOT_XLSX = "This is not a readable .xlsx file."


class SpreadsheetError(ApplicationError):
    """The file as a whole cannot be imported: nothing was read from it."""

    default_code = "invalid_file"


@dataclass
class ParsedSheet:
    format: str  # ImportFormat
    rows: list[MeasurementRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # cells that could not be read
    data_rows: int = 0  # sheet rows below the header (blank rows included)
    kpi_column: str = "A (kpi_code)"
    period_column: str = ""  # long format only; wide periods are in each row's own column
    note_column: str = ""  # long format only


def parse_spreadsheet(filename: str, content: bytes) -> ParsedSheet:
    """Detect the file type from its content (and name), then read it."""
    if not content:
        raise SpreadsheetError("The file is empty.")
    name = filename.lower()
    if content[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm")):
        return _read(_xlsx_rows(content))
    if name.endswith((".xls", ".ods", ".numbers")):
        raise SpreadsheetError(
            "Only .csv and .xlsx files can be imported; save the sheet as .xlsx or CSV UTF-8."
        )
    return _read(_csv_rows(content), csv_cells=True)


# --- Reading cells ------------------------------------------------------------------------------


@dataclass
class _Cell:
    value: Any
    formula_without_value: bool = False


def _csv_rows(content: bytes) -> Iterator[list[_Cell]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = content[exc.start : exc.start + 1].hex().upper()
        line = content[: exc.start].count(b"\n") + 1
        raise SpreadsheetError(
            f"The file is not UTF-8 text: line {line:,} has the byte 0x{bad}, which is not valid "
            "UTF-8 (the file may be saved as Windows-1252 or Latin-1). Save it as “CSV UTF-8” "
            "and upload it again."
        ) from None
    if "\x00" in text:
        raise SpreadsheetError("The file contains binary data; upload a CSV or .xlsx file.")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [_Cell(value) for value in record]


def _xlsx_rows(content: bytes) -> Iterator[list[_Cell]]:
    _check_xlsx_container(content)
    from openpyxl import load_workbook

    try:
        values_book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        formula_book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        values_sheet, formula_sheet = values_book.worksheets[0], formula_book.worksheets[0]
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        raise SpreadsheetError(NOT_XLSX) from None
    try:
        for values, formulas in zip(
            values_sheet.iter_rows(values_only=True),
            formula_sheet.iter_rows(values_only=True),
            strict=False,
        ):
            yield [
                _Cell(
                    value,
                    formula_without_value=value is None
                    and isinstance(formula, str)
                    and formula.startswith("="),
                )
                for value, formula in zip(values, formulas, strict=False)
            ]
    except SpreadsheetError:
        raise
    except Exception:
        raise SpreadsheetError(NOT_XLSX) from None
    finally:
        values_book.close()
        formula_book.close()


def _check_xlsx_container(content: bytes) -> None:
    """Refuse, before any XML is parsed, what is not a plain workbook of sensible size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SpreadsheetError(NOT_XLSX) from None
    names = {member.filename for member in members}
    unpacked = sum(member.file_size for member in members)
    ceiling = min(50 * settings.GOVERN_IMPORT_MAX_BYTES, BOMB_CEILING)
    if unpacked > ceiling:
        raise SpreadsheetError(
            f"The .xlsx file unpacks to {_megabytes(unpacked)}, more than the "
            f"{_megabytes(ceiling)} allowed; it looks like a decompression bomb and was not read."
        )
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise SpreadsheetError(NOT_XLSX)
    try:
        content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        raise SpreadsheetError(NOT_XLSX) from None
    if b"macroEnabled" in content_types or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise SpreadsheetError(
            "The workbook contains macros; save it as a plain Excel workbook (.xlsx) and upload "
            "it again."
        )
    if any(n.startswith("xl/externalLinks/") for n in names):
        raise SpreadsheetError(
            "The workbook links to other files (external links); break the links (Data → Edit "
            "Links → Break Link) so it holds plain values, and upload it again."
        )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


# --- Reading the layout -------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _label(index: int, header: Any) -> str:
    if isinstance(header, dt.datetime | dt.date):
        header = header.strftime("%Y-%m-%d")
    return f"{get_column_letter(index + 1)} ({header})"


def _read(records: Iterator[list[_Cell]], *, csv_cells: bool = False) -> ParsedSheet:
    max_rows = settings.GOVERN_IMPORT_MAX_ROWS
    header_cells: list[_Cell] | None = None
    body: list[tuple[int, list[_Cell]]] = []
    data_rows = 0
    for number, cells in enumerate(records, start=1):
        if header_cells is None:
            if all(_is_blank(c.value) for c in cells):
                if number > 1000:  # no header in sight: not a sheet of actuals
                    break
                continue
            header_cells, header_row = cells, number
            continue
        data_rows = number - header_row
        if data_rows > max_rows:
            raise SpreadsheetError(
                f"The file has more than {max_rows:,} data rows; split it into smaller files."
            )
        if any(not _is_blank(c.value) or c.formula_without_value for c in cells):
            body.append((number, cells))
    if header_cells is None:
        raise SpreadsheetError("The file is empty.")
    if header_row != 1:
        raise SpreadsheetError(
            f"The header must be in row 1; row 1 is blank and the first filled row is {header_row}."
        )
    while header_cells and _is_blank(header_cells[-1].value):
        header_cells = header_cells[:-1]
    headers = [c.value for c in header_cells]
    names = [str(h).strip().lower() if not _is_blank(h) else "" for h in headers]
    if not body:
        raise SpreadsheetError("The file has a header row but no data rows.")

    wide = (
        names[0] == "kpi_code"
        and "period" not in names
        and "value" not in names
        and any(n != "name" for n in names[1:])
    )
    if wide:
        sheet = _read_wide(headers, names, body)
    else:
        sheet = _read_long(headers, names, body)
    sheet.data_rows = data_rows
    if len(sheet.rows) > max_rows:
        raise SpreadsheetError(
            f"The file holds {len(sheet.rows):,} values, more than the {max_rows:,} allowed in "
            "one import; split it into smaller files."
        )
    if csv_cells:
        _check_csv_formulas(sheet)
    return sheet


def _duplicates(names: list[str]) -> list[str]:
    seen, twice = set(), []
    for name in names:
        if name and name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def _read_long(headers, names, body) -> ParsedSheet:
    expected = "kpi_code, period, value and optionally note"
    for index, name in enumerate(names):
        if not name:
            raise SpreadsheetError(
                f"Column {get_column_letter(index + 1)} has no header. A file in the long format "
                f"has the columns {expected}."
            )
    twice = _duplicates(names)
    if twice:
        raise SpreadsheetError(f"The column '{twice[0]}' appears more than once in the header.")
    unknown = [headers[i] for i, n in enumerate(names) if n not in LONG_COLUMNS]
    if unknown:
        raise SpreadsheetError(
            f"Unexpected column '{str(unknown[0]).strip()}'. A file in the long format has the "
            f"columns {expected}; a file in the wide format starts with kpi_code and has one "
            "column per period, headed by its start date."
        )
    missing = [n for n in LONG_REQUIRED if n not in names]
    if missing:
        listed = ", ".join(f"'{n}'" for n in missing)
        raise SpreadsheetError(
            f"Missing column{'s' if len(missing) > 1 else ''} {listed}. A file in the long format "
            f"has the columns {expected}."
        )
    at = {name: names.index(name) for name in names}
    labels = {name: _label(index, name) for name, index in at.items()}
    sheet = ParsedSheet(
        format=ImportFormat.LONG,
        kpi_column=labels["kpi_code"],
        period_column=labels["period"],
        note_column=labels.get("note", ""),
    )
    for number, cells in body:

        def cell(name: str, cells=cells) -> _Cell:
            index = at.get(name)
            return cells[index] if index is not None and index < len(cells) else _Cell(None)

        bad = [(name, cell(name)) for name in LONG_COLUMNS if cell(name).formula_without_value]
        for name, _ in bad:
            sheet.errors.append(
                RowError(
                    number,
                    _field(name),
                    "The cell contains a formula without a value; "
                    "open the file in Excel, let it calculate and save it again.",
                    labels[name],
                )
            )
        if bad:
            continue
        note = cell("note").value
        sheet.rows.append(
            MeasurementRow(
                row=number,
                kpi_code=_text(cell("kpi_code").value),
                period=cell("period").value,
                value=cell("value").value,
                note="" if _is_blank(note) else str(note).strip(),
                column=labels["value"],
            )
        )
    return sheet


def _field(column_name: str) -> str:
    return {"kpi_code": "kpi"}.get(column_name, column_name)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _read_wide(headers, names, body) -> ParsedSheet:
    first_period = 2 if len(names) > 1 and names[1] == "name" else 1
    periods: dict[int, dt.date] = {}
    seen: dict[dt.date, int] = {}
    for index in range(first_period, len(headers)):
        header = headers[index]
        letter = get_column_letter(index + 1)
        if _is_blank(header):
            raise SpreadsheetError(
                f"Column {letter} has no header. In the wide format every column after kpi_code "
                "(and name) is headed by the start date of its period."
            )
        try:
            period = parse_period(header)
        except ValueError:
            raise SpreadsheetError(
                f"Column {letter} is headed '{str(header).strip()}', which is not a date. In the "
                "wide format every column after kpi_code (and name) is headed by the start date "
                "of its period, e.g. 2026-03-01."
            ) from None
        if period in seen:
            raise SpreadsheetError(
                f"Columns {get_column_letter(seen[period] + 1)} and {letter} are both headed "
                f"{period.isoformat()}; each period may appear once."
            )
        seen[period] = index
        periods[index] = period
    if not periods:
        raise SpreadsheetError(
            "The wide format needs at least one period column after kpi_code (and name)."
        )
    labels = {index: _label(index, period) for index, period in periods.items()}
    sheet = ParsedSheet(format=ImportFormat.WIDE)
    for number, cells in body:
        code_cell = cells[0] if cells else _Cell(None)
        code = _text(code_cell.value)
        for index, period in periods.items():
            cell = cells[index] if index < len(cells) else _Cell(None)
            if cell.formula_without_value:
                sheet.errors.append(
                    RowError(
                        number,
                        "value",
                        "The cell contains a formula without a value; "
                        "open the file in Excel, let it calculate and save it again.",
                        labels[index],
                    )
                )
                continue
            if _is_blank(cell.value):
                continue
            sheet.rows.append(
                MeasurementRow(number, code, period, cell.value, column=labels[index])
            )
    return sheet


def _check_csv_formulas(sheet: ParsedSheet) -> None:
    """A CSV cell that starts like a formula and is not a number is reported, never evaluated."""
    from kpis.services.measurements import parse_value

    kept = []
    for row in sheet.rows:
        suspects = [("kpi", row.kpi_code, sheet.kpi_column), ("note", row.note, sheet.note_column)]
        if isinstance(row.period, str):
            suspects.append(("period", row.period, sheet.period_column or row.column))
        if isinstance(row.value, str):
            suspects.append(("value", row.value, row.column))
        found = False
        for field_name, text, column in suspects:
            text = str(text).strip()
            if not text.startswith(FORMULA_PREFIXES):
                continue
            if field_name == "value":
                try:
                    parse_value(text)
                    continue
                except ValueError:
                    pass
            sheet.errors.append(
                RowError(
                    row.row,
                    field_name,
                    f"The cell holds '{text[:40]}', which looks like a "
                    "formula; enter the value itself.",
                    column,
                )
            )
            found = True
        if not found:
            kept.append(row)
    sheet.rows = kept
