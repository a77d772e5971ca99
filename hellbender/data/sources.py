"""Read a dataset entry of the config into a `datasets.Dataset` of raw rows.

Local files (json/jsonl/csv/parquet/arrow/text), folders and globs are read with `datasets`; so are folders written by
`Dataset.save_to_disk` / `DatasetDict.save_to_disk` and hub ids (which fail with an offline hint when there is no
network). JSON is parsed line by line so a bad line is named by file and line, and can be skipped when the config
says `invalid_rows: drop` (the skipped lines are counted in `InvalidRows`).
"""

from __future__ import annotations

import csv
import glob
import json
import os
from pathlib import Path
from typing import Any

import datasets

from hellbender.config import DatasetConfig
from hellbender.errors import DataError

_EXTENSION_TYPES = {
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".txt": "text",
}
JSON_ROW_COLUMN = "__hellbender_json_row"  # a whole row as JSON text (see `_json_rows`)
KEPT_REASONS = 5  # invalid rows whose reason the report keeps (the count covers all of them)


class InvalidRows:
    """Rows that cannot be used: raised at once (`invalid_rows: error`) or skipped and counted (`drop`)."""

    def __init__(self, drop: bool) -> None:
        self.drop = drop
        self.count = 0
        self.reasons: list[str] = []

    def add(self, error: DataError) -> None:
        if not self.drop:
            raise error
        self.count += 1
        if len(self.reasons) < KEPT_REASONS:
            self.reasons.append(error.message)


def is_saved_dataset(path: Path) -> bool:
    """A folder written by `Dataset.save_to_disk` or `DatasetDict.save_to_disk`."""
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    )


def local_files(ds: DatasetConfig) -> list[Path]:
    """The local files a dataset entry reads, or [] when `path` is not on disk (then it is a hub id)."""
    path = Path(ds.path).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        if is_saved_dataset(path):
            return sorted(p for p in path.rglob("*") if p.is_file())
        if ds.data_files is not None:
            return sorted(Path(p) for name in ds.data_files for p in glob.glob(str(path / name)))
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _EXTENSION_TYPES)
    matches = sorted(Path(p) for p in glob.glob(str(path)))
    return [p for p in matches if p.is_file()]


def is_hub_dataset(ds: DatasetConfig) -> bool:
    return not local_files(ds) and not _looks_like_local_path(ds.path)


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


def load_source(ds: DatasetConfig, invalid: InvalidRows | None = None) -> datasets.Dataset:
    """Load the raw rows of one `datasets:` entry; unreadable JSON lines go to `invalid` (raise when None)."""
    invalid = invalid or InvalidRows(drop=False)
    path = Path(ds.path).expanduser()
    if path.is_dir() and is_saved_dataset(path):
        return _load_saved(ds, path)
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
        return _json_rows(ds, files, invalid)
    options = _csv_text_options(files[0]) if builder == "csv" else {}
    try:
        return datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train", **options)
    except (ValueError, datasets.exceptions.DatasetGenerationError) as exc:
        cause = exc.__cause__ or exc
        raise DataError(f"dataset `{ds.path}` could not be read as {builder}: {cause}") from exc


def _load_saved(ds: DatasetConfig, path: Path) -> datasets.Dataset:
    """A `save_to_disk` folder; from a DatasetDict the entry's `split` is taken."""
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        if ds.split not in loaded:
            raise DataError(
                f"dataset `{ds.path}` has no split `{ds.split}` (it has: {', '.join(loaded)}).",
                hint="set `split:` on this dataset to one of those names.",
            )
        return loaded[ds.split]
    return loaded


def _csv_text_options(first_file: Path) -> dict[str, Any]:
    """Read every CSV column as text: pandas would turn "007" into 7 and an empty cell into NaN."""
    with first_file.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    features = datasets.Features({name: datasets.Value("string") for name in header})
    return {"features": features, "keep_default_na": False}


def offline() -> bool:
    return any(
        os.environ.get(name, "").lower() in ("1", "true", "yes") for name in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")
    )


def _load_hub(ds: DatasetConfig) -> datasets.Dataset:
    """A hub dataset. `trust_remote_code` is not passed on: `datasets` 4+ no longer runs loading scripts at all."""
    subset = f" (name `{ds.name}`)" if ds.name else ""
    try:
        return datasets.load_dataset(
            ds.path, name=ds.name, data_files=ds.data_files, split=ds.split, revision=ds.revision
        )
    except Exception as exc:  # the hub client raises many unrelated types for "offline" and "not found"
        first_line = str(exc).strip().split("\n")[0]
        if offline() or "offline" in first_line.lower() or "connect" in first_line.lower():
            hint = (
                "this machine cannot reach the Hugging Face hub (HF_DATASETS_OFFLINE / HF_HUB_OFFLINE is set or "
                f"there is no network): download it where there is (`hf download {ds.path} --repo-type dataset "
                "--local-dir DIR`, or `save_to_disk`) and set `path:` to that folder, or unset HF_DATASETS_OFFLINE."
            )
        else:
            hint = "check the id, `name`, `split` and `revision`; for a local file, check the path."
        raise DataError(
            f"dataset `{ds.path}`{subset} is not a local file or folder, and loading it from the Hugging Face hub "
            f"failed: {first_line}",
            hint=hint,
        ) from exc


def _json_rows(ds: DatasetConfig, files: list[Path], invalid: InvalidRows) -> datasets.Dataset:
    """JSON / JSON Lines parsed with Python's json rather than pyarrow's reader, which turns text such as
    "2021-03-05" into timestamps (silently changing the data) and reports bad lines without their number.

    Arrow needs one type per column; when rows disagree (`messages` a list in one row, text in another), each row is
    kept as JSON text instead and decoded just before formatting, so the format names the rows it cannot use.
    """
    rows = [row for file in files for row in read_json_rows(file, invalid)]
    # every field of every row (`Dataset.from_list` keeps only the first row's fields); missing ones are None
    fields = list(dict.fromkeys(key for row in rows for key in row))
    try:
        return datasets.Dataset.from_dict({key: [row.get(key) for row in rows] for key in fields})
    except (ValueError, TypeError):  # pyarrow: one field with different types across rows
        return datasets.Dataset.from_dict({JSON_ROW_COLUMN: [json.dumps(row) for row in rows]})


def read_json_rows(path: Path, invalid: InvalidRows | None = None) -> list[dict[str, Any]]:
    """Rows of a JSON array or JSON Lines file. A malformed, non-UTF-8 or non-object line fails naming the file and
    line, or is skipped and counted when `invalid` drops."""
    invalid = invalid or InvalidRows(drop=False)
    data = path.read_bytes()
    if path.suffix.lower() == ".json" and data.lstrip().startswith((b"[", b"{")):
        document = _json_document(path, data)
        if document is not None:
            return _objects_only(path, document, invalid)
    rows = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        row = _json_line(path, number, raw, invalid)
        if row is not None:
            rows.append(row)
    return rows


def _json_document(path: Path, data: bytes) -> Any:
    """The parsed file if it is one JSON document, None if it may be JSON Lines with a .json name."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: not valid UTF-8 ({exc.reason}).", hint="re-save the file as UTF-8."
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _objects_only(path: Path, document: Any, invalid: InvalidRows) -> list[dict[str, Any]]:
    document = [document] if isinstance(document, dict) else document
    if not isinstance(document, list):
        raise DataError(f"{path}: a JSON file must hold an array of objects (or one object per line).")
    rows = []
    for number, row in enumerate(document, start=1):
        if isinstance(row, dict):
            rows.append(row)
        else:
            invalid.add(DataError(f"{path}, row {number}: expected a JSON object, got {type(row).__name__}."))
    return rows


def _json_line(path: Path, number: int, raw: bytes, invalid: InvalidRows) -> dict[str, Any] | None:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        invalid.add(
            DataError(
                f"{path}, line {number}: not valid UTF-8 ({exc.reason} at byte {exc.start + 1} of the line).",
                hint="re-save the file as UTF-8, or set `invalid_rows: drop` to skip such lines.",
            )
        )
        return None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        invalid.add(
            DataError(
                f"{path}, line {number}: malformed JSON ({exc.msg} at column {exc.colno}).",
                hint="fix or delete that line (each line of a .jsonl file must be one JSON object), "
                "or set `invalid_rows: drop` to skip it.",
            )
        )
        return None
    if not isinstance(row, dict):
        invalid.add(DataError(f"{path}, line {number}: expected a JSON object per line, got {type(row).__name__}."))
        return None
    return row
