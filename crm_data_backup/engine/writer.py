# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Streaming writers of backup files: CSV (the one dialect) and XLSX.

Both take rows of text cells. XLSX cells are written as strings, which a
spreadsheet never runs as formulas. CSV cells are written as given: the
backup's CSV files come neutralised from SQL, with the formula protection
setting (see ``exporter.SqlExporter``).
"""

import csv
import io

import xlsxwriter

from .errors import BackupFileError, _lt

XLSX_MAX_ROWS = 1048576
XLSX_MAX_CELL = 32767


class CsvWriter:
    """Write one CSV file of the contract's dialect to a binary stream.

    UTF-8 with a BOM, comma, minimal quoting, CRLF line ends. ``header``
    None continues a file whose header is already written. The BOM makes
    Odoo's Import (and spreadsheets) read the file as UTF-8: without it, their
    guess of the encoding garbles files with few accented letters.
    """

    def __init__(self, stream, header):
        self._text = io.TextIOWrapper(
            stream, encoding="utf-8", newline="", write_through=False
        )
        self._csv = csv.writer(self._text, dialect="excel")
        self.rows = 0
        if header is not None:
            self._text.write("\ufeff")
            self._csv.writerow(header)

    def write_rows(self, rows):
        """Write a list of rows (sequences of str); returns how many."""
        self._csv.writerows(rows)
        self.rows += len(rows)
        return len(rows)

    def close(self):
        """Flush and detach, leaving the underlying stream open."""
        self._text.flush()
        self._text.detach()


class XlsxWriter:
    """One workbook, one sheet per object, written in constant memory.

    Every cell is a string cell (``write_string``, never ``write``): a
    spreadsheet shows it and never evaluates it, so no cell is neutralised and
    the workbook holds the values themselves.
    """

    def __init__(self, path):
        self.workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self.sheet = None
        self.rows = 0

    def add_sheet(self, name, header):
        """Start a sheet (finishing the previous one) and write its header."""
        self.sheet = self.workbook.add_worksheet(name[:31])
        self.rows = 0
        for col, value in enumerate(header):
            self.sheet.write_string(0, col, value)

    def write_rows(self, rows):
        """Write rows of str cells as strings (never formulas)."""
        sheet = self.sheet
        count = 0
        for row in rows:
            self.rows += 1
            count += 1
            if self.rows >= XLSX_MAX_ROWS:
                raise BackupFileError(
                    _lt(
                        "An object has more rows than a spreadsheet sheet can hold "
                        "(%(rows)s): choose the CSV backup format."
                    ),
                    rows=XLSX_MAX_ROWS - 1,
                )
            for col, value in enumerate(row):
                if value:
                    if len(value) > XLSX_MAX_CELL:
                        raise BackupFileError(
                            _lt(
                                "A value is longer than a spreadsheet cell can "
                                "hold (%(size)s characters): choose the CSV "
                                "backup format."
                            ),
                            size=XLSX_MAX_CELL,
                        )
                    sheet.write_string(self.rows, col, value)
        return count

    def close(self):
        self.workbook.close()
