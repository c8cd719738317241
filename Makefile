PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := samples/000_3feb2deca3ba0fbc.pdf

.PHONY: install demo test lint bench mutate clean

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

lint: install
	$(BIN)/ruff check pipeline schemas tests scripts

mutate: install
	$(BIN)/python scripts/mutate.py

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf $(VENV) build *.egg-info
