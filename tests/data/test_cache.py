"""The prepared-data cache: what its key covers, and one build shared by concurrent processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from hellbender.config import load_config
from hellbender.data.cache import DATA_FORMAT_VERSION, data_fingerprint
from hellbender.data.pipeline import prepare_data
from tests.conftest import arithmetic_chats, write_config, write_jsonl


def _config(tmp_path: Path, model_dir: Path, **keys):
    data = tmp_path / "d.jsonl"
    if not data.exists():
        write_jsonl(data, arithmetic_chats(5))
    base = {
        "base_model": str(model_dir),
        "datasets": [{"path": str(data), "type": "chat_template"}],
        "dataset_prepared_path": str(tmp_path / "prepared"),
    }
    return load_config(write_config(tmp_path / "cfg.yml", **{**base, **keys}))


def test_format_version_is_two() -> None:
    assert DATA_FORMAT_VERSION == 2


@pytest.mark.parametrize(
    "change",
    [
        {"default_system_message": "Be brief."},
        {"tokens": ["<x>"]},
        {"dataset_exact_deduplication": True},
        {"invalid_rows": "drop"},
        {"special_tokens": {"pad_token": "<|endoftext|>"}},
        {"sequence_len": 64},
        {"seed": 1},
    ],
)
def test_every_token_changing_key_changes_the_key(tmp_path, smollm2_dir, smollm2_tokenizer, change) -> None:
    before = data_fingerprint(_config(tmp_path, smollm2_dir), smollm2_tokenizer, None)
    assert data_fingerprint(_config(tmp_path, smollm2_dir, **change), smollm2_tokenizer, None) != before


def test_test_datasets_file_bytes_and_hub_revision_are_in_the_key(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    held = write_jsonl(tmp_path / "t.jsonl", arithmetic_chats(2))
    tests = [{"path": str(held), "type": "chat_template"}]
    first = data_fingerprint(_config(tmp_path, smollm2_dir, test_datasets=tests), smollm2_tokenizer, None)
    write_jsonl(held, arithmetic_chats(3))
    assert data_fingerprint(_config(tmp_path, smollm2_dir, test_datasets=tests), smollm2_tokenizer, None) != first
    hub = [{"path": "org/data", "type": "chat_template"}]
    pinned = [{"path": "org/data", "type": "chat_template", "revision": "abc"}]
    assert data_fingerprint(_config(tmp_path, smollm2_dir, datasets=hub), smollm2_tokenizer, None) != data_fingerprint(
        _config(tmp_path, smollm2_dir, datasets=pinned), smollm2_tokenizer, None
    )


def _prepare_in_process(config_path: str, queue) -> None:
    from hellbender.model.load import load_tokenizer

    config = load_config(Path(config_path))
    queue.put(prepare_data(config, load_tokenizer(config)).reused)


def test_concurrent_processes_build_once(tmp_path, smollm2_dir) -> None:
    _config(tmp_path, smollm2_dir)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_prepare_in_process, args=(str(tmp_path / "cfg.yml"), queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = sorted(queue.get(timeout=240) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert results == [False, True]  # one built, the other waited on the lock and reused it
    assert len([p for p in (tmp_path / "prepared").iterdir() if p.is_dir()]) == 1
