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

.PHONY: setup run test lint typecheck unit bench bench-peers bench-suggestions bench-causes sample clean lock

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

## Benchmark: ROWS ledger rows a night (default 1,000,000) for DAYS nights (default 4); then
## the same kind of nights read from real formats beside their canonical twin (REAL_DAYS nights);
## then walletrecon against its peers (floor, DuckDB SQL, pandas, datacompy) on the nights of the
## first part. `make bench-peers` runs only the comparison.
ROWS      ?= 1000000
DAYS      ?= 4
REAL_DAYS ?= 3

bench: $(STAMP)
	$(BIN)/python bench/nightly.py --rows $(ROWS) --days $(DAYS)
	$(BIN)/python bench/real_formats.py --rows $(ROWS) --days $(REAL_DAYS)
	$(BIN)/python bench/compare.py --rows $(ROWS) --days $(DAYS)

bench-peers: $(STAMP)
	$(BIN)/python bench/compare.py --rows $(ROWS) --days $(DAYS)

## Suggested matches against the generator's near misses (share suggested right, share wrong).
bench-suggestions: $(STAMP)
	$(BIN)/python bench/suggestions.py --rows $(ROWS) --days $(DAYS)

## Likely causes named against the generator's injected causes (100,000 rows x 4 nights, seed 5).
CAUSE_ROWS ?= 100000
bench-causes: $(STAMP)
	$(BIN)/python bench/causes.py --rows $(CAUSE_ROWS) --days $(DAYS) --seed 5

## Regenerate the committed sample data set.
sample: $(STAMP)
	rm -rf $(SAMPLE)/inbox $(SAMPLE)/truth.csv $(REAL)
	$(BIN)/walletrecon sample --out $(SAMPLE) --days 5 --seed 7 --rows 400 --formats mixed
	$(BIN)/walletrecon sample --out $(REAL) --days 5 --seed 7 --rows 400 --formats real

lock:
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache bench/.venv-datacompy
