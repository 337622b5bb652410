# Two entry points for a fresh machine (Python 3.11+, no AWS account, no Docker):
#   make demo   the whole release story on the embedded AWS
#   make test   lint + every test + workflow linters
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format unit integration e2e bench clean lock iam

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vectora-release demo

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -n auto --dist loadfile --durations=25

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python tools/policy_lint.py
	$(BIN)/python tools/render_bootstrap.py --check
	$(BIN)/cfn-lint iam/bootstrap.yaml

# The hash-pinned requirements main.yml installs the release tool from (pip --require-hashes).
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links \
	  --output-file requirements/release-tool.txt pyproject.toml requirements/build.in

# iam/bootstrap.yaml, the one-time setup stack, from the policy templates of iam/.
iam: $(STAMP)
	$(BIN)/python tools/render_bootstrap.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

# Figures, not tests: start-up, then AWS SAM CLI and vectora-release side by side (README).
bench: $(STAMP)
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/peer_sam.py

clean:
	rm -rf $(VENV) dist .cache .vectora-local .pytest_cache .ruff_cache
