PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := samples/000_3feb2deca3ba0fbc.pdf

.PHONY: install demo test lint typecheck bench mutate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/budget-lens check $(SAMPLE) --no-info || test $$? -eq 1

test: install
	@bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest

lint: install typecheck
	$(BIN)/ruff check pipeline schemas tests scripts

# the whole pipeline checked; schemas/ and the core (facts, identities, rule registry, table
# building, numbers) strictly
CORE := schemas pipeline/facts.py pipeline/checks/identities.py pipeline/checks/base.py \
	pipeline/segment/tables.py pipeline/segment/catalog.py pipeline/numbers.py
typecheck: install
	$(BIN)/mypy --ignore-missing-imports pipeline schemas
	$(BIN)/mypy --strict --follow-imports=silent --ignore-missing-imports $(CORE)

mutate: install
	$(BIN)/python scripts/mutate.py

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf $(VENV) build *.egg-info
