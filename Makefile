# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8080
WORKERS ?= 4
THREADS ?= 2
export FLASK_APP := run.py

.PHONY: run test venv migrate seed serve serve-prod worker beat clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed

migrate: venv
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask jishi seed-demo

# Installs, migrates, seeds the demo and serves on http://127.0.0.1:$(PORT) (embedded SQLite).
# Without REDIS_URL the Celery worker and beat run beside the web server on the embedded SQLite
# broker and stop with it; with REDIS_URL only the web app is served (run `make worker`, `make beat`).
run: seed
	@echo "记实系统已启动：http://127.0.0.1:$(PORT)/  （按 Ctrl+C 停止）"
	$(BIN)/flask jishi serve --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite and, where PostgreSQL is reachable, on PostgreSQL as well.
test: venv
	$(BIN)/python tests/run_all.py

# The web server alone (with the embedded worker when REDIS_URL is unset), without migrate/seed.
serve: venv
	$(BIN)/flask jishi serve --host 127.0.0.1 --port $(PORT)

# Production web server: gunicorn with $(WORKERS) processes of $(THREADS) threads (docs/deployment.md,
# sizing) on PostgreSQL; start `make worker` and `make beat` beside it (REDIS_URL set).
serve-prod: venv
	@test -n "$$DATABASE_URL" || { echo "serve-prod: set DATABASE_URL (PostgreSQL) and REDIS_URL first (docs/deployment.md)"; exit 2; }
	$(BIN)/gunicorn -w $(WORKERS) --threads $(THREADS) -b 127.0.0.1:$(PORT) run:app

worker: venv
	$(BIN)/celery -A app.tasks.worker:celery worker --loglevel INFO

beat: venv
	$(BIN)/celery -A app.tasks.worker:celery beat --loglevel INFO

clean:
	rm -rf $(VENV) instance .pytest_cache
