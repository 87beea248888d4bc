# Two commands for a newcomer: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-fast bench bench-smoke install install-test install-bench translations extract-messages lint

# The development server speaks plain http, so the session cookie cannot be Secure here.
run: install translations
	$(FLASK) db upgrade
	$(FLASK) seed --if-empty
	$(FLASK) users bootstrap
	$(FLASK) summary
	REGISTRY_SESSION_COOKIE_SECURE=false $(FLASK) run --host $(HOST) --port $(PORT)

# Ruff, then the suite on SQLite and, at the same time, on PostgreSQL when one is configured
# (TEST_DATABASE_URL) or answers on 127.0.0.1:5432. With CI=true PostgreSQL is required.
# The two runs share no database and spend much of their time waiting on I/O and on each
# other's servers, so side by side they take little more than the longer one alone; the
# PostgreSQL run's output follows the SQLite run's.
# One process a run: side by side the two runs keep two cores busy (90-96% of the time), so
# spreading each over the cores as well (-n 2) only added work: 616 and 643 s against 561 and
# 622 s in one process each (PYTEST_ARGS=-n2 spreads them where there are more cores).
# The PostgreSQL run is the longer (its every query a round trip to the server), and alone at
# the end it left a core idle. The SQLite run yields to it (nice), so the two end closer
# together: PostgreSQL finished 56-57 s after SQLite in one process each, 28-39 s after with
# SQLITE_NICE=5, 7-26 s after with 19 (seven runs), the lowest priority: the SQLite run takes
# what the PostgreSQL run and its server leave (on one commit CI took 440 and 478 s with 19,
# 483 s with 5; a whole run's time swings more than that with the host's load).
# PYTEST_ARGS go to both runs: make test PYTEST_ARGS='-x -k search'.
SQLITE_NICE ?= 19
test: install-test translations lint
	@url="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$url" ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then \
		url="postgresql://postgres@127.0.0.1:5432/test"; fi; \
	if [ -z "$$url" ] && [ "$${CI:-}" = "true" ]; then \
		echo "CI=true but no PostgreSQL: set TEST_DATABASE_URL"; exit 1; fi; \
	pg_log=$$(mktemp); pg_status=0; \
	if [ -n "$$url" ]; then \
		TEST_DATABASE_URL="$$url" $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS) >"$$pg_log" 2>&1 & pg_pid=$$!; fi; \
	echo "== the suite on SQLite =="; \
	TEST_DATABASE_URL= nice -n $(SQLITE_NICE) $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS); \
		sqlite_status=$$?; \
	if [ -n "$$url" ]; then \
		wait $$pg_pid || pg_status=$$?; \
		echo "== the same suite on PostgreSQL =="; cat "$$pg_log"; \
	else echo "No PostgreSQL found: only SQLite was tested."; fi; \
	rm -f "$$pg_log"; \
	[ $$sqlite_status -eq 0 ] && [ $$pg_status -eq 0 ]

# The daily loop: the suite without its slow kinds (browser, axe, hypothesis, gunicorn,
# schemathesis, reliability, pdf, program, sweep, national: markers that tests/conftest.py
# gives by what a test uses), on SQLite, in one process more than there are cores: some tests
# wait (a slow mail server, a session running out) and the others use the core meanwhile.
# Compiled modules are kept between runs (Python's, and pytest's rewritten tests, in the
# ignored __pycache__) even where the environment asks not to write them: each process
# compiled them again, 5 s of its start.
FAST_PROCESSES ?= $(shell echo $$(( $$(nproc) + 1 )))
test-fast: install-test translations
	PYTHONDONTWRITEBYTECODE= TEST_DATABASE_URL= $(BIN)/pytest -p no:cacheprovider -q \
		-n $(FAST_PROCESSES) -m "not slow" $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# uv installs the project and its extras: on a fresh machine 13 s where pip took 45 (pip
# unpacks and compiles one wheel after another), a tenth of CI's time. uv reads no pip
# configuration: where only a mirror configured for pip answers, pip does the work, and where
# uv itself cannot be installed too (tried once per environment: the marker says so).
$(VENV)/.uv-tried:
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv>=0.9,<1' || echo "== uv could not be installed: pip installs"
	touch $@

# The extras each step installs (a make variable: a comma written in $(call) would split it).
RUN_EXTRAS := postgres,pdf,serve
TEST_EXTRAS := test,$(RUN_EXTRAS)
BENCH_EXTRAS := bench,$(RUN_EXTRAS)
install_extras = $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode \
	-e '.[$(1)]' || $(BIN)/pip install --quiet -e '.[$(1)]'

$(VENV)/.installed: $(VENV)/.uv-tried setup.cfg pyproject.toml
	$(call install_extras,$(RUN_EXTRAS))
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(call install_extras,$(TEST_EXTRAS))
	touch $@

# Not part of `make test`: the registry, Datasette and a minimal Flask route under load (wrk),
# on DUO's national data and ten times it, then the search through admin changes and restarts
# (benchmarks/changes.py); the tables go to docs/benchmarks-latest.md too.
bench: install-bench translations
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } \
		|| { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(BIN)/python benchmarks/serve.py --markdown docs/benchmarks-latest.md

# Every benchmark once, as briefly as it allows: each still runs (the figures mean nothing).
# serve.py also runs changes.py, at national scale and ten times it; wrk (as for `bench`) needs
# at least as many connections as its 2 threads; in 1 s a slow server answered nothing and
# serve.py divided by its zero requests/s.
bench-smoke: install-bench translations
	$(BIN)/python benchmarks/search_requests.py --requests 3
	$(BIN)/python benchmarks/forgiving_search.py --searches 3
	$(BIN)/python benchmarks/exports.py --repeat 1
	$(BIN)/python benchmarks/overviews.py --repeat 1 --data regional
	$(BIN)/python benchmarks/duo_import.py
	$(BIN)/python benchmarks/serve.py --duration 3 --connections 2 --searches 20 \
		--changes-duration 2 --every 1 --markdown /dev/null

install-bench: $(VENV)/.installed
	$(call install_extras,$(BENCH_EXTRAS))

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

translations: install
	$(BIN)/pybabel compile -d registry/translations -f >/dev/null
	$(BIN)/pybabel compile -D admin -d registry/translations_admin -f >/dev/null

# After adding interface strings: refresh the catalogue, translate, commit the .po files.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l --sort-output -o registry/translations/messages.pot .
	$(BIN)/pybabel update -i registry/translations/messages.pot -d registry/translations --width 100
