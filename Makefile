# The two commands: `make run` serves the portal, `make test` runs every gate and the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Production-mode settings used only to prove `check --deploy` is clean.
DEPLOY_ENV := DJANGO_ENV=production \
	SECRET_KEY=deploy-check-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ \
	ALLOWED_HOSTS=beian.example.cn DATABASE_URL=sqlite:///:memory: \
	SMS_GATEWAY_URL=https://sms.example.cn/send SMS_GATEWAY_SECRET=deploy-check-secret

ifeq ($(CI),true)
TEST_ENV := DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/beian} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/1}
else
TEST_ENV :=
endif

.PHONY: run test install services browser speech messages lint migrations-check deploy-check pytest worker beat clean bench bench-scale

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

messages: install
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0

# `make run PORT=8101` serves on another port; links in emails (PORTAL_URL) follow it unless
# PORTAL_URL is set.
PORT ?= 8000
RUN_ENV := PORTAL_URL=$${PORTAL_URL:-http://127.0.0.1:$(PORT)}

run: messages
	$(BIN)/python manage.py migrate --no-input -v1
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

services:
ifeq ($(CI),true)
	bash scripts/services.sh
endif

# The browser journeys (tests/e2e) drive Debian's chromium; Chinese pages need the CJK fonts.
browser:
ifeq ($(CI),true)
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi
endif

# The spoken captcha: flite reads the characters, sox adds noise (tests/test_accounts_captcha.py).
speech:
ifeq ($(CI),true)
	@if ! command -v flite >/dev/null || ! command -v sox >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq flite sox >/dev/null; \
	fi
endif

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

deploy-check: install
	$(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

# The suite runs on one pytest-xdist worker per core (PYTEST_WORKERS=0 runs it in this process).
PYTEST_WORKERS ?= auto

pytest: install messages services browser speech
	$(TEST_ENV) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test: lint migrations-check deploy-check pytest

worker: install
	$(BIN)/celery -A beian worker -Q default,delivery,checks,imports -l info

beat: install
	$(BIN)/celery -A beian beat -l info

# The national-scale benchmark (not a test): a PostgreSQL database of its own, seeded once,
# and a Redis database of its own (cache and Celery broker), so that two sizes never share
# cached answers or queued imports. `make bench BENCH_DB=beian_bench_4m BENCH_WEBSITES=4000000`
# measures the national size; `make bench-scale` compares the two runs' saved figures.
BENCH_DB ?= beian_bench
BENCH_WEBSITES ?= 1000000
BENCH_REDIS_DB ?= $(if $(filter beian_bench,$(BENCH_DB)),13,14)
BENCH_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_DB) \
	REDIS_URL=redis://127.0.0.1:6379/$(BENCH_REDIS_DB)
BENCH_SCALE ?= var/bench/beian_bench.json var/bench/beian_bench_4m.json

bench: messages
	CI=true bash scripts/services.sh
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(BENCH_DB)'" | grep -q 1 \
		|| psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $(BENCH_DB)"
	$(BENCH_ENV) $(BIN)/python manage.py migrate --no-input -v0
	$(BENCH_ENV) $(BIN)/python -c "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'beian.settings'); import django; django.setup(); from filings.models import Website; raise SystemExit(0 if Website.objects.exists() else 1)" \
		|| $(BENCH_ENV) $(BIN)/python -m bench seed --websites $(BENCH_WEBSITES)
	$(BENCH_ENV) $(BIN)/python -m bench run

bench-scale: install
	$(BIN)/python -m bench scale $(BENCH_SCALE)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
