# ozg-router: one command to run the suite, one to test it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen
PACKAGES := -p ozg_common -p ozg_testing -p ozg_cli -p ozg_zufi -p ozg_submission -p ozg_kop_gateway -p ozg_payment -p ozg_mailbox -p ozg_demo_receiver
PYTEST_ARGS ?=
CHAOS_RATE ?= 50
CHAOS_APPLICATIONS ?= 20000
CHAOS_PARTITIONS ?= 3
CHAOS_FAULT_GAP ?=

export OZG_TEST_POSTGRES_URL ?= postgresql+asyncpg://ozg:ozg@127.0.0.1:5432
export OZG_TEST_KAFKA ?= 127.0.0.1:9092

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: install
install: ## install uv (if missing) and the workspace into .venv
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); $$UV sync --frozen --quiet --compile-bytecode

.PHONY: install-pip
install-pip: ## fallback without uv: a plain venv with pip
	$(PYTHON) -m venv .venv
	.venv/bin/pip install --quiet -e libs/common -e libs/testing -e libs/cli -e services/zufi \
		-e services/submission -e services/kop-gateway -e services/payment -e services/mailbox \
		-e deploy/demo-receiver \
		pytest pytest-asyncio pytest-timeout ruff mypy import-linter matplotlib aiohttp

.PHONY: infra-up
infra-up: ## start Kafka (KRaft; KAFKA_BROKERS=3 for a cluster) and PostgreSQL on 127.0.0.1
	KAFKA_BROKERS=$(KAFKA_BROKERS) deploy/local/infra.sh up

.PHONY: infra-down
infra-down: ## stop Kafka (one broker or the cluster) and PostgreSQL
	KAFKA_BROKERS=$(KAFKA_BROKERS) deploy/local/infra.sh down

.PHONY: run
run: install ## start Kafka, the citizens' OIDC provider and all services (SQLite), in the foreground; Ctrl-C stops all
	deploy/local/kafka.sh up
	deploy/local/oidc.sh up
	$(RUN) python deploy/local/suite.py

.PHONY: test
test: install ## start Kafka + PostgreSQL, run every test, stop what was started
	deploy/local/with-infra.sh $(RUN) pytest $(PYTEST_ARGS)

.PHONY: test-chaos
test-chaos: install ## the crash benchmark at full scale, on a three-broker cluster and PostgreSQL of its own
	$(RUN) python bench/chaos.py --applications $(CHAOS_APPLICATIONS) --rate $(CHAOS_RATE) \
		--partitions $(CHAOS_PARTITIONS) $(if $(CHAOS_FAULT_GAP),--fault-gap $(CHAOS_FAULT_GAP))

.PHONY: lint
lint: install ## ruff, mypy --strict and the import contracts (docs/architecture.md)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy $(PACKAGES)
	$(RUN) lint-imports

.PHONY: check-deploy
check-deploy: install ## validate Dockerfile, compose file and Kubernetes manifests statically
	deploy/check.sh

.PHONY: bench
bench: install ## run the benchmarks in bench/ (results in bench/results/)
	bash bench/tools.sh vegeta >/dev/null || echo "vegeta unavailable: zufi_routes falls back to its Python load generator"
	deploy/local/with-infra.sh $(RUN) python bench/run_all.py

.PHONY: demo
demo: ## with `make run` running: walk one application from A to Z
	$(RUN) python deploy/demo/demo.py
