# walletrecon: everything a new user needs is `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out
SAMPLE := sample_data
REAL   := $(SAMPLE)/real_formats
DATES   = $(shell ls $(SAMPLE)/inbox)
REAL_DATES = $(shell ls $(REAL)/inbox)

.PHONY: setup run test lint typecheck unit bench sample clean lock

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Run the nightly job over every business date of sample_data/, night after night, then
## over the same kind of nights as gateways, banks and merchants deliver them (real_formats/).
run: $(STAMP)
	rm -rf $(OUT)
	@for d in $(DATES); do \
	  $(BIN)/walletrecon run --date $$d --inbox $(SAMPLE)/inbox --out $(OUT) \
	    --config $(SAMPLE)/walletrecon.toml || exit $$?; \
	done
	@for d in $(REAL_DATES); do \
	  $(BIN)/walletrecon run --date $$d --inbox $(REAL)/inbox --out $(OUT)/real_formats \
	    --config $(REAL)/walletrecon.toml || exit $$?; \
	done

## Lint, type-check and test (slow tests included).
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

## Only the fast tests.
quick: $(STAMP)
	$(BIN)/pytest -n 2 -q -m "not slow"

## Benchmark: 1,000,000 ledger rows a night for 4 nights; then the same kind of nights read
## from real formats beside their canonical twin, night by night (3 nights).
bench: $(STAMP)
	$(BIN)/python bench/nightly.py --rows 1000000 --days 4
	$(BIN)/python bench/real_formats.py --rows 1000000 --days 3

## Regenerate the committed sample data set.
sample: $(STAMP)
	rm -rf $(SAMPLE)/inbox $(SAMPLE)/truth.csv $(REAL)
	$(BIN)/walletrecon sample --out $(SAMPLE) --days 5 --seed 7 --rows 400 --formats mixed
	$(BIN)/walletrecon sample --out $(REAL) --days 5 --seed 7 --rows 400 --formats real

lock:
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
