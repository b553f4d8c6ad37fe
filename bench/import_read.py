"""How fast ``open_table(...).rows()`` reads a big CSV and XLSX file, and in how much memory.

    .venv/bin/python bench/import_read.py [--rows 100000] [--columns 12] [--no-xlsx]

Generates the files with ``leadflow/imports/tests/messy.py`` (contact-like rows with
accents, decimal commas and d/m/Y dates) in a temporary directory, then for each:
the time to open (format, encoding check of the whole file, delimiter, header), the
rows per second of one full pass of ``rows()``, and the peak of Python memory
(tracemalloc, measured in a separate pass because tracing slows it down).
No database is used.
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from leadflow.imports.reading import open_table  # noqa: E402
from leadflow.imports.tests.messy import big_rows, write_csv, write_xlsx  # noqa: E402


def measure(path: Path, label: str) -> None:
    started = time.perf_counter()
    table = open_table(path)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    count = sum(1 for _row in table.rows())
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    for _row in table.rows():
        pass
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = path.stat().st_size / 1e6
    print(
        f"{label:5} {size:7.1f} MB  open {opened:6.2f} s  {count} rows in "
        f"{elapsed:6.2f} s = {count / elapsed:9,.0f} rows/s  "
        f"peak {peak / 1e6:6.2f} MB ({table.encoding or '-'}, "
        f"{table.delimiter!r}, {len(table.headers)} columns)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=12)
    parser.add_argument("--no-xlsx", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        rows = big_rows(args.rows, columns=args.columns)
        csv_path = write_csv(folder / "big.csv", rows, delimiter=";", encoding="cp1252")
        measure(csv_path, "csv")
        if not args.no_xlsx:
            started = time.perf_counter()
            xlsx_path = write_xlsx(
                folder / "big.xlsx", big_rows(args.rows, columns=args.columns)
            )
            written = time.perf_counter() - started
            print(f"(xlsx written by openpyxl in {written:.1f} s)", flush=True)
            measure(xlsx_path, "xlsx")


if __name__ == "__main__":
    main()
