# Two entry points for a fresh machine: `make up` (network + chaincode + service + demo) and
# `make test` (lint, type checks, Go and Python tests against a real network and databases).
SHELL := /bin/bash
.DEFAULT_GOAL := help
STATE_DIR ?= $(CURDIR)/.state
# First of 60 loopback ports for a new network (default 27000); e.g. `make up BASE_PORT=28000`.
BASE_PORT ?=
export LEDGER_STATE_DIR := $(STATE_DIR)
UV := uv run --frozen

.PHONY: help deps fabric up down purge status test lint typecheck gotest pytest clean

help:
	@echo "make up      start the Fabric network, deploy the chaincode, run the demo"
	@echo "make test    ruff + mypy + go test + pytest (unit and integration)"
	@echo "make status  show the network; make down / make purge to stop / delete state"

deps:
	@bash scripts/bootstrap.sh

fabric:
	@bash scripts/install-fabric.sh >/dev/null

up: deps fabric
	$(UV) ledgerctl network up $(if $(BASE_PORT),--base-port $(BASE_PORT))
	$(UV) ledgerctl chaincode deploy
	$(UV) ledgerctl service start
	$(UV) ledgerctl api start
	$(UV) ledgerctl network status
	$(UV) ledgerctl demo

status: deps
	$(UV) ledgerctl network status

down: deps
	$(UV) ledgerctl network down

purge: deps
	$(UV) ledgerctl network down --purge

lint: deps
	$(UV) ruff check src gateway verify sdk tests scripts

typecheck: deps
	$(UV) mypy

gotest:
	cd chaincode && GOFLAGS=-mod=mod go vet ./... && GOFLAGS=-mod=mod go test -count=1 ./...

pytest: deps fabric
	@bash scripts/run-pytest.sh $(PYTEST_ARGS)

test: lint typecheck gotest pytest

clean: purge
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
