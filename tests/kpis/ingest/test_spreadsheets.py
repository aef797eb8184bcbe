"""Reading CSV and XLSX files in long and wide format: rows, row numbers, columns, file errors."""

import datetime as dt

import pytest

from kpis.services.measurements import MeasurementRow, RowError
from kpis.spreadsheets import SpreadsheetError, parse_spreadsheet
from tests.kpis.ingest.support import JAN, csv_bytes, with_member, xlsx_bytes


def test_a_long_csv_with_a_bom_and_mixed_case_headers():
    # given
    content = (
        "\ufeff KPI_Code ,Period,VALUE,note\r\n"
        "PROC-OTD,2026-01-01,91.5,ERP\r\n"
        "\r\n"
        "PROC-OTD,2026-02-01,-3,\r\n"
    )

    # when
    sheet = parse_spreadsheet("actuals.csv", csv_bytes(content))

    # then
    assert sheet.format == "long"
    assert sheet.rows == [
        MeasurementRow(2, "PROC-OTD", "2026-01-01", "91.5", "ERP", column="C (value)"),
        MeasurementRow(4, "PROC-OTD", "2026-02-01", "-3", "", column="C (value)"),
    ]
    assert sheet.errors == []


def test_a_semicolon_csv_is_read_too():
    # when
    sheet = parse_spreadsheet("a.csv", b"period;kpi_code;value\n2026-01-01;PROC-OTD;7\n")

    # then
    assert sheet.rows == [MeasurementRow(2, "PROC-OTD", "2026-01-01", "7", "", column="C (value)")]


def test_a_wide_csv_gives_one_row_per_filled_cell():
    # given
    content = (
        "kpi_code,name,2026-01-01,2026-02-01\nPROC-OTD,On time,91,\nSALES-INTAKE,Intake,,120\n"
    )

    # when
    sheet = parse_spreadsheet("wide.csv", csv_bytes(content))

    # then
    assert sheet.format == "wide"
    assert sheet.rows == [
        MeasurementRow(2, "PROC-OTD", JAN, "91", column="C (2026-01-01)"),
        MeasurementRow(3, "SALES-INTAKE", dt.date(2026, 2, 1), "120", column="D (2026-02-01)"),
    ]


def test_a_long_xlsx_reads_dates_and_numbers():
    # given
    content = xlsx_bytes(
        [["kpi_code", "period", "value"], ["PROC-OTD", dt.datetime(2026, 1, 1), 91.5]]
    )

    # when
    sheet = parse_spreadsheet("a.xlsx", content)

    # then
    assert sheet.rows == [
        MeasurementRow(2, "PROC-OTD", dt.datetime(2026, 1, 1), 91.5, "", column="C (value)")
    ]


def test_a_wide_xlsx_with_date_headers():
    # given
    content = xlsx_bytes(
        [["kpi_code", dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)], ["PROC-OTD", 90, 88]]
    )

    # when
    sheet = parse_spreadsheet("wide.xlsx", content)

    # then
    assert [(r.row, r.kpi_code, r.period, r.value, r.column) for r in sheet.rows] == [
        (2, "PROC-OTD", JAN, 90, "B (2026-01-01)"),
        (2, "PROC-OTD", dt.date(2026, 2, 1), 88, "C (2026-02-01)"),
    ]


def test_an_xlsx_formula_without_a_cached_value_is_an_error_for_that_cell():
    # given: openpyxl saves formulas without a calculated value, as a script would
    content = xlsx_bytes(
        [
            ["kpi_code", "period", "value"],
            ["PROC-OTD", "2026-01-01", "=40+2"],
            ["PROC-OTD", "2026-02-01", 5],
        ]
    )

    # when
    sheet = parse_spreadsheet("a.xlsx", content)

    # then
    assert sheet.errors == [
        RowError(
            2,
            "value",
            "The cell contains a formula without a value; open the file in Excel, let it "
            "calculate and save it again.",
            "C (value)",
        )
    ]
    assert [r.row for r in sheet.rows] == [3]


def test_csv_cells_that_look_like_formulas_are_reported_not_evaluated():
    # given
    content = (
        "kpi_code,period,value\n"
        "PROC-OTD,2026-01-01,=1+1\n"
        "PROC-OTD,2026-02-01,-4\n"
        "@SUM(A1),2026-03-01,1\n"
    )

    # when
    sheet = parse_spreadsheet("a.csv", csv_bytes(content))

    # then
    assert sheet.errors == [
        RowError(
            2,
            "value",
            "The cell holds '=1+1', which looks like a formula; enter the value itself.",
            "C (value)",
        ),
        RowError(
            4,
            "kpi",
            "The cell holds '@SUM(A1)', which looks like a formula; enter the value itself.",
            "A (kpi_code)",
        ),
    ]
    assert [(r.row, r.value) for r in sheet.rows] == [(3, "-4")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"kpi_code,period,value\n", "The file has a header row but no data rows."),
        (
            b"code,date,amount\nX,2026-01-01,1\n",
            "Unexpected column 'code'. A file in the long format has the columns kpi_code, "
            "period, value and optionally note; a file in the wide format starts with kpi_code "
            "and has one column per period, headed by its start date.",
        ),
        (
            b"kpi_code,period\nX,2026-01-01\n",
            "Missing column 'value'. A file in the long format has the columns kpi_code, period, "
            "value and optionally note.",
        ),
        (
            b"kpi_code,period,value,value\nX,2026-01-01,1,2\n",
            "The column 'value' appears more than once in the header.",
        ),
        (
            b"kpi_code,2026-01-01,Total\nX,1,2\n",
            "Column C is headed 'Total', which is not a date. In the wide format every column "
            "after kpi_code (and name) is headed by the start date of its period, e.g. 2026-03-01.",
        ),
        (
            b"kpi_code,2026-01-01,2026-01-01\nX,1,2\n",
            "Columns B and C are both headed 2026-01-01; each period may appear once.",
        ),
        (
            "kpi_code,period,value\nPROC-OTD,2026-01-01,1\nCAFÉ,2026-01-01,2\n".encode("cp1252"),
            "The file is not UTF-8 text: line 3 has the byte 0xC9, which is not valid UTF-8 "
            "(the file may be saved as Windows-1252 or Latin-1). Save it as “CSV UTF-8” and "
            "upload it again.",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(content, message):
    # when
    with pytest.raises(SpreadsheetError) as refused:
        parse_spreadsheet("actuals.csv", content)

    # then
    assert refused.value.message == message


def test_a_broken_xlsx_is_refused():
    # given
    damaged = xlsx_bytes([["kpi_code", "period", "value"]])[:400]

    # when / then
    for content in (b"PK\x03\x04 not really a zip", damaged, b"plain text"):
        with pytest.raises(SpreadsheetError) as refused:
            parse_spreadsheet("actuals.xlsx", content)
        assert refused.value.message == "This is not a readable .xlsx file."


def test_a_decompression_bomb_is_refused_before_parsing(settings):
    # given: 1 MB of zeros inside a zip of a few KB, against a 10 KB upload limit (× 50 = 500 KB)
    settings.GOVERN_IMPORT_MAX_BYTES = 10_000
    content = with_member(xlsx_bytes([["kpi_code"]]), "xl/media/padding.bin", bytes(1_000_000))
    assert len(content) < 10_000

    # when
    with pytest.raises(SpreadsheetError) as refused:
        parse_spreadsheet("bomb.xlsx", content)

    # then
    assert refused.value.message == (
        "The .xlsx file unpacks to 1.0 MB, more than the 0.5 MB allowed; it looks like a "
        "decompression bomb and was not read."
    )


def test_external_links_and_macros_are_refused():
    # given
    base = xlsx_bytes([["kpi_code", "period", "value"], ["X", "2026-01-01", 1]])
    linked = with_member(base, "xl/externalLinks/externalLink1.xml", b"<externalLink/>")
    macros = with_member(base, "xl/vbaProject.bin", b"\x00")

    # when
    with pytest.raises(SpreadsheetError) as link_refused:
        parse_spreadsheet("linked.xlsx", linked)
    with pytest.raises(SpreadsheetError) as macro_refused:
        parse_spreadsheet("macros.xlsx", macros)

    # then
    assert link_refused.value.message == (
        "The workbook links to other files (external links); break the links (Data → Edit "
        "Links → Break Link) so it holds plain values, and upload it again."
    )
    assert macro_refused.value.message == (
        "The workbook contains macros; save it as a plain Excel workbook (.xlsx) and upload it "
        "again."
    )


def test_too_many_rows_are_refused(settings):
    # given
    settings.GOVERN_IMPORT_MAX_ROWS = 2
    content = b"kpi_code,period,value\nA,2026-01-01,1\nA,2026-02-01,1\nA,2026-03-01,1\n"

    # when
    with pytest.raises(SpreadsheetError) as refused:
        parse_spreadsheet("a.csv", content)

    # then
    assert (
        refused.value.message == "The file has more than 2 data rows; split it into smaller files."
    )
