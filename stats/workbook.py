"""An xlsx an agent can read on screen and print: tables under a heading that says whose report it is.

Every sheet opens with the report's title, the service and the month, then one table: bold headers, panes
frozen below them, filters on them, columns as wide as their content, dates stored as dates (dd/mm/yyyy, so
Excel and LibreOffice sort and filter them as dates), A4 landscape fitted to one page wide, the heading and
the headers repeated on every printed page.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from stats.format import month_label

TITLE = "Rapport mensuel des autorisations provisoires de travail"
DEFINITIONS_SHEET = "Définitions"
DATE_FORMAT = "dd/mm/yyyy"
HEADING_ROWS = 3  # title, service, month
HEADER_ROW = HEADING_ROWS + 2  # a blank row between the heading and the table
# Column widths in characters: never narrower than a header of a few letters, never wider than a link.
MIN_WIDTH, MAX_WIDTH, WRAPPED_WIDTH = 8, 70, 90
# Characters per line of a merged heading cell, to give its row the height its wrapped lines need.
POINTS_PER_LINE = 15


@dataclass(frozen=True)
class Heading:
    service: str
    month: str  # YYYY-MM

    def lines(self) -> tuple[str, str, str]:
        label = month_label(self.month)
        return (
            f"{TITLE} – {label}",
            f"Service : {self.service}",
            f"Décisions prises en {label} (heure de Paris) ; définitions : feuille « {DEFINITIONS_SHEET} ».",
        )


def xlsx(
    sheets: Iterable[tuple[str, pd.DataFrame]],
    heading: Heading,
    links: Collection[str] = frozenset(),
    wrapped: Collection[str] = frozenset(),
) -> bytes:
    """One sheet per (name, frame); columns named in `links` hold URLs made clickable, those in `wrapped`
    long text wrapped at a fixed width."""
    book = Workbook()
    empty = book.active  # the sheet a new workbook starts with
    if empty is not None:
        book.remove(empty)
    for name, frame in sheets:
        sheet = book.create_sheet(name)
        widths = write_table(sheet, frame, links, wrapped)
        write_heading(sheet, heading, sum(widths))
        set_print_layout(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_table(sheet: Worksheet, frame: pd.DataFrame, links: Collection[str], wrapped: Collection[str]) -> list[float]:
    bold = Font(bold=True)
    for column, header in enumerate(frame.columns, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=header)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(frame.itertuples(index=False), start=1):
        for column, (header, value) in enumerate(zip(frame.columns, row, strict=True), start=1):
            cell = sheet.cell(row=HEADER_ROW + offset, column=column, value=cell_value(value))
            if isinstance(cell.value, (date, datetime)):
                cell.number_format = DATE_FORMAT
            if header in links and cell.value:
                cell.hyperlink = cell.value
                cell.style = "Hyperlink"
            if header in wrapped:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = []
    for column, header in enumerate(frame.columns, start=1):
        width = WRAPPED_WIDTH if header in wrapped else content_width([header, *frame[header]])
        sheet.column_dimensions[get_column_letter(column)].width = width
        widths.append(width)
    last = f"{get_column_letter(len(frame.columns))}{HEADER_ROW + len(frame)}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}"
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    return widths


def cell_value(value):
    """What the cell stores: None for a missing value, plain Python numbers and dates, never pandas types."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def content_width(values: Iterable) -> float:
    """Characters of the longest value as displayed (a date as dd/mm/yyyy), with a margin for the filter button."""
    longest = max(len(display_text(value)) for value in values)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 3)))


def display_text(value) -> str:
    if isinstance(value, (date, datetime)):
        return "00/00/0000"
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def write_heading(sheet: Worksheet, heading: Heading, table_width: float) -> None:
    """The heading's lines, each merged across the table and wrapped, so a print fitted to the table's width
    cuts none of it."""
    last_column = max(1, sheet.max_column)
    for row, (text, size) in enumerate(zip(heading.lines(), (14, 11, 11), strict=True), start=1):
        sheet.cell(row=row, column=1, value=text).font = Font(bold=row < 3, size=size)
        sheet.cell(row=row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        if last_column > 1:
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_column)
        lines = -(-len(text) * size // 11 // max(1, int(table_width)))  # ceiling division
        sheet.row_dimensions[row].height = POINTS_PER_LINE * size / 11 * max(1, lines)


def set_print_layout(sheet: Worksheet) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"1:{HEADER_ROW}"
    sheet.print_options.horizontalCentered = True
    footer = sheet.oddFooter
    assert footer is not None  # openpyxl gives every sheet its headers and footers
    footer.center.text = "Page &P sur &N"
    footer.left.text = "&A"  # the sheet's name
