"""Bad input through the real CLI: one clear paragraph, non-zero exit, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import arithmetic_chats, write_config, write_jsonl


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hellbender", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    for fragment in fragments:
        assert fragment in output, output


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "train.jsonl", arithmetic_chats(4))


def _config(tmp_path: Path, **keys) -> Path:
    base = {
        "base_model": "bundled:SmolLM2-135M-Instruct",
        "datasets": [{"path": str(tmp_path / "train.jsonl"), "type": "chat_template"}],
        "dataset_prepared_path": str(tmp_path / "prep"),
        "output_dir": str(tmp_path / "out"),
    }
    return write_config(tmp_path / "cfg.yml", **{**base, **keys})


def test_missing_base_model_path(tmp_path: Path, data: Path) -> None:
    config = _config(tmp_path, base_model=str(tmp_path / "no-such-model"))
    _assert_user_error(_run("preprocess", str(config), cwd=tmp_path), "base_model: path not found", "no-such-model")


def test_missing_dataset_file(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _assert_user_error(_run("preprocess", str(config), cwd=tmp_path), "dataset file not found", "train.jsonl")


def test_malformed_jsonl_line(tmp_path: Path, data: Path) -> None:
    data.write_text(data.read_text().replace('{"messages"', '{"messages" oops', 1))
    _assert_user_error(
        _run("preprocess", str(_config(tmp_path)), cwd=tmp_path), "train.jsonl, line 1", "malformed JSON"
    )


def test_unknown_key_and_wrong_type_reported_together(tmp_path: Path, data: Path) -> None:
    config = _config(tmp_path, learnig_rate=0.1, lora_r="abc")
    _assert_user_error(
        _run("train", str(config), cwd=tmp_path), "did you mean `learning_rate`", "`lora_r`", "2 config problems"
    )


def test_missing_config_file(tmp_path: Path) -> None:
    _assert_user_error(_run("validate", str(tmp_path / "nope.yml"), cwd=tmp_path), "nope.yml")


def test_hub_id_fails_offline_with_a_hint(tmp_path: Path, data: Path) -> None:
    config = _config(tmp_path, base_model="some-org/some-model-that-is-not-here")
    result = _run("preprocess", str(config), cwd=tmp_path)
    _assert_user_error(result, "some-org/some-model-that-is-not-here", "hint")


BAD_ROWS = {
    "missing field": (b'{"conversation": []}', "train.jsonl, row 3: missing field `messages`"),
    "wrong role": (
        b'{"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]}',
        "train.jsonl, row 3: message 0 has unknown role `robot`",
    ),
    "empty conversation": (b'{"messages": []}', "train.jsonl, row 3: `messages` is an empty conversation"),
    "messages not a list": (b'{"messages": "hi"}', "train.jsonl, row 3: `messages` must be a list"),
    "non-UTF-8 line": (b'{"messages": "caf\xe9"}', "train.jsonl, line 3: not valid UTF-8"),
}


def _with_bad_row(data: Path, bad: bytes) -> None:
    lines = data.read_bytes().splitlines()
    data.write_bytes(b"\n".join([*lines[:2], bad, *lines[2:]]) + b"\n")


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_row_stops_with_file_and_row(tmp_path: Path, data: Path, tiny_model_dir: Path, case: str) -> None:
    bad, message = BAD_ROWS[case]
    _with_bad_row(data, bad)
    result = _run("preprocess", str(_config(tmp_path, base_model=str(tiny_model_dir))), cwd=tmp_path)
    assert result.returncode == 1
    _assert_user_error(result, message, "hint")


def test_bad_rows_dropped_and_counted(tmp_path: Path, data: Path, tiny_model_dir: Path) -> None:
    for bad, _ in BAD_ROWS.values():
        _with_bad_row(data, bad)
    config = _config(tmp_path, base_model=str(tiny_model_dir), invalid_rows="drop")
    result = _run("preprocess", str(config), "--stats-json", str(tmp_path / "s.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "s.json").read_text())["datasets"][0]
    assert (report["rows_in"], report["dropped_invalid"], report["rows_out"]) == (9, 5, 4)
    assert "line 3: not valid UTF-8" in report["invalid_reasons"][0]  # source-level problems come first


def test_unknown_split_value(tmp_path: Path, data: Path, tiny_model_dir: Path) -> None:
    _with_bad_row(data, b'{"split": "dev", "messages": [{"role": "user", "content": "x"}]}')
    result = _run("preprocess", str(_config(tmp_path, base_model=str(tiny_model_dir))), cwd=tmp_path)
    _assert_user_error(result, "train.jsonl, row 3: field `split` is 'dev'")


def test_hub_dataset_offline(tmp_path: Path, tiny_model_dir: Path) -> None:
    config = _config(
        tmp_path, base_model=str(tiny_model_dir), datasets=[{"path": "some-org/no-such-data", "type": "alpaca"}]
    )
    result = _run("preprocess", str(config), cwd=tmp_path)
    _assert_user_error(result, "dataset `some-org/no-such-data`", "--local-dir")
