# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-sqlite test-postgres lint bench dist clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { bash tools/system-packages.sh venv && $(PYTHON) -m venv $(VENV); }

RUN_STAMP := $(VENV)/.run-stamp

# Reinstall only when pyproject.toml changed since the last install. Running needs the app's
# own dependencies only; testing adds the test, lint and packaging tools.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,dist]'
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	@bash tools/system-packages.sh run
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then \
		$(BIN)/python -m charting $(ARGS); \
	else \
		echo "No screen found: opening Charting on a virtual X display (xvfb-run)."; \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python -m charting $(ARGS); \
	fi

# The whole suite twice: on SQLite (each workstation's own file), then on PostgreSQL (a clinic's
# shared server; tests/postgres.py starts a private throwaway cluster). `make test-sqlite` is
# the quick run.
test: test-sqlite test-postgres

test-sqlite: $(STAMP)
	@bash tools/system-packages.sh test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# The bundle build (marked slow) does not depend on the database: the first pass builds it.
test-postgres: $(STAMP)
	@bash tools/system-packages.sh test
	@bash tools/system-packages.sh postgres
	CHARTING_TEST_DATABASE=postgresql QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check charting tests tools benchmarks
	$(BIN)/ruff format --check charting tests tools benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	@bash tools/system-packages.sh test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks $(ARGS)

# The double-clickable one-folder app in dist/charting/ (run dist/charting/charting).
dist: $(STAMP)
	@bash tools/system-packages.sh test
	$(BIN)/pyinstaller --noconfirm --clean build.spec
	QT_QPA_PLATFORM=offscreen dist/charting/charting --self-check

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
