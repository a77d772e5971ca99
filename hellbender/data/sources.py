"""Read a dataset entry of the config into a `datasets.Dataset` of raw rows.

Local files (json/jsonl/csv/parquet/arrow/text) and folders are read with `datasets`; hub ids go through
`load_dataset` too and fail with an offline hint when there is no network. A file that `datasets` cannot parse is
scanned again line by line so the error names the exact file and line.
"""

from __future__ import annotations

import csv
import glob
import json
from pathlib import Path
from typing import Any

import datasets

from hellbender.config import DatasetConfig
from hellbender.errors import DataError, HellbenderError

_EXTENSION_TYPES = {
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".txt": "text",
}


def local_files(ds: DatasetConfig) -> list[Path]:
    """The local files a dataset entry reads, or [] when `path` is not on disk (then it is a hub id)."""
    path = Path(ds.path).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        names = ds.data_files if ds.data_files is not None else None
        if names is not None:
            names = [names] if isinstance(names, str) else names
            return sorted(Path(p) for name in names for p in glob.glob(str(path / name)))
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _EXTENSION_TYPES)
    matches = sorted(Path(p) for p in glob.glob(str(path)))
    return [p for p in matches if p.is_file()]


def _builder_name(ds: DatasetConfig, files: list[Path]) -> str:
    if ds.ds_type:
        return ds.ds_type
    kinds = {_EXTENSION_TYPES.get(f.suffix.lower()) for f in files}
    if None in kinds or len(kinds) != 1:
        suffixes = sorted({f.suffix or "(none)" for f in files})
        raise DataError(
            f"dataset `{ds.path}`: cannot tell the file type from the extension(s) {', '.join(suffixes)}.",
            hint="set `ds_type:` (json, csv, parquet, arrow, text) on this dataset.",
        )
    return kinds.pop()  # type: ignore[return-value]


def _looks_like_local_path(path: str) -> bool:
    return path.startswith((".", "/", "~")) or Path(path).suffix.lower() in _EXTENSION_TYPES or path.count("/") > 1


def load_source(ds: DatasetConfig) -> datasets.Dataset:
    """Load the raw rows of one `datasets:` entry."""
    files = local_files(ds)
    if not files:
        if _looks_like_local_path(ds.path):
            raise DataError(
                f"dataset file not found: `{ds.path}`.",
                hint="check `datasets[].path` (relative paths are resolved from the current directory).",
            )
        return _load_hub(ds)
    builder = _builder_name(ds, files)
    if builder == "json":
        return _json_rows(ds, files)
    options = _csv_text_options(files[0]) if builder == "csv" else {}
    try:
        return datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train", **options)
    except (ValueError, datasets.exceptions.DatasetGenerationError) as exc:
        cause = exc.__cause__ or exc
        raise DataError(f"dataset `{ds.path}` could not be read as {builder}: {cause}") from exc


def _csv_text_options(first_file: Path) -> dict[str, Any]:
    """Read every CSV column as text: pandas would turn "007" into 7 and an empty cell into NaN."""
    with first_file.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    features = datasets.Features({name: datasets.Value("string") for name in header})
    return {"features": features, "keep_default_na": False}


def _load_hub(ds: DatasetConfig) -> datasets.Dataset:
    try:
        return datasets.load_dataset(ds.path, name=ds.name, data_files=ds.data_files, split=ds.split)
    except Exception as exc:  # the hub client raises many unrelated types for "offline" and "not found"
        raise HellbenderError(
            f"dataset `{ds.path}` is not a local file or folder, and loading it as a hub dataset failed: {exc}",
            hint="check the path; to use a hub dataset offline, download it elsewhere and point `path` to the files.",
        ) from exc


def _json_rows(ds: DatasetConfig, files: list[Path]) -> datasets.Dataset:
    """JSON / JSON Lines parsed with Python's json rather than pyarrow's reader, which turns text such as
    "2021-03-05" into timestamps (silently changing the data) and reports bad lines without their number."""
    rows = [row for file in files for row in read_json_rows(file)]
    try:
        return datasets.Dataset.from_list(rows)
    except (ValueError, TypeError) as exc:  # pyarrow: one field with different types across rows
        raise DataError(
            f"dataset `{ds.path}`: a field holds different kinds of values in different rows ({exc}).",
            hint="give each field the same type in every row (e.g. always text).",
        ) from exc


def read_json_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON array or JSON Lines file; fails naming the file and line of the first malformed line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: not valid UTF-8 ({exc.reason}).", hint="re-save the file as UTF-8."
        ) from None
    if path.suffix.lower() == ".json" and text.lstrip().startswith(("[", "{")):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            pass  # may still be JSON Lines with a .json name; fall through to the line scan
        else:
            document = [document] if isinstance(document, dict) else document
            if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
                raise DataError(f"{path}: a JSON file must hold an array of objects (or one object per line).")
            return document
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}, line {number}: malformed JSON ({exc.msg} at column {exc.colno}).",
                hint="fix or delete that line; each line of a .jsonl file must be one JSON object.",
            ) from None
        if not isinstance(row, dict):
            raise DataError(f"{path}, line {number}: expected a JSON object per line, got {type(row).__name__}.")
        rows.append(row)
    return rows
