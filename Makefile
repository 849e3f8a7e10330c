# recalldesk: `make demo` runs the product with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# The demo catches its own email; set SMTP_CATCHER= (empty) when EMAIL_HOST is a real server.
SMTP_CATCHER ?= 1

.PHONY: demo demo-fresh venv serve test test-fast test-browser lint bench bench-match bench-outreach bench-surge bench-claims clean browser

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

var:
	mkdir -p var

## demo: set up everything, build the demo company and its recall, then serve the console
demo: $(STAMP) var
	$(PY) manage.py migrate --no-input
	@if [ -f var/.demo-built ]; then echo "Demo data already built (make demo-fresh rebuilds it)."; \
	else $(PY) manage.py demo && touch var/.demo-built; fi
	$(MAKE) serve

## demo-fresh: wipe the demo data and build it again
demo-fresh: $(STAMP) var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo --fresh && touch var/.demo-built

## serve: run the task worker and the web server (Ctrl-C stops both); the web server is
## granian (WSGI), or gunicorn with SERVER=gunicorn; THREADS Python threads a worker (1)
serve: $(STAMP) var
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@echo ""
	@echo "  recalldesk is running at http://$(HOST):$(PORT)/"
	@echo "  log in as coordinator / recall-demo-2026 (also: agent, approver, analyst, admin)"
	@echo "  email sent by the demo lands in var/outbox (a Maildir) through a local SMTP server"
	@echo ""
	trap 'kill 0' INT TERM EXIT; \
	$(if $(SMTP_CATCHER),$(PY) -m aiosmtpd -n -l 127.0.0.1:1025 -c aiosmtpd.handlers.Mailbox var/outbox &,) \
	$(PY) manage.py worker & \
	$(if $(filter gunicorn,$(SERVER)),\
	$(VENV)/bin/gunicorn recalldesk.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
		$(if $(filter-out 1,$(or $(THREADS),1)),--threads $(THREADS),) --access-logfile -,\
	$(VENV)/bin/granian --interface wsgi --host $(HOST) --port $(PORT) --workers $(WORKERS) \
		--blocking-threads $(or $(THREADS),1) --no-ws --access-log recalldesk.wsgi:application)

## browser: make sure headless Chromium (and axe-core, for the accessibility checks) are there
browser: var
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: browser tests will be skipped"; fi; }
	@test -f var/axe/node_modules/axe-core/axe.min.js || { \
		command -v npm >/dev/null 2>&1 && npm install --silent --no-audit --no-fund --prefix var/axe axe-core@4 \
		|| echo "npm is missing: the accessibility checks will be skipped"; }

## test: every test on the default database (SQLite), browser tests included
test: $(STAMP) browser
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not browser"

test-browser: $(STAMP) browser
	$(PY) -m pytest -q -m browser

lint: $(STAMP) var
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy recalldesk bench
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: bench-match bench-outreach bench-surge bench-claims

## bench-match: scope matching on generated holdings (HOLDINGS=10000000 by default);
## BENCH_DATABASE_URL=postgres://user:pass@host/postgres runs it on PostgreSQL
bench-match: $(STAMP)
	$(PY) bench/match.py $(if $(HOLDINGS),--holdings $(HOLDINGS),) \
		$(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

## bench-outreach: 1,000,000 recipients queued then dispatched to a real SMTP sink
## (RECIPIENTS=20000 runs smaller); postfix's smtp-sink and smtp-source when installed
bench-outreach: $(STAMP)
	$(PY) bench/outreach.py $(if $(RECIPIENTS),--recipients $(RECIPIENTS),) \
		$(if $(BENCH_WORKERS),--workers $(BENCH_WORKERS),) \
		$(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

## bench-surge: the public page and lookup under wrk, against nginx serving the static export
## (needs the Debian packages wrk and nginx); the web server `make serve` runs, with its
## SERVER, WORKERS and THREADS
bench-surge: $(STAMP)
	$(PY) bench/surge.py --server $(or $(SERVER),granian) --workers $(WORKERS) \
		--threads-per-worker $(or $(THREADS),1) $(if $(DURATION),--duration $(DURATION),)

## bench-claims: a claim's queue position and date among CLAIMS open claims (200000 by default)
bench-claims: $(STAMP)
	$(PY) bench/claims.py $(if $(CLAIMS),--claims $(CLAIMS),) \
		$(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL),)

clean:
	rm -rf $(VENV) var
