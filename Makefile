# The two commands a newcomer needs: `make run` and `make test`. Everything installs from this repo's files.
SHELL := /bin/bash
export SAM_CLI_TELEMETRY := 0
# The template generates its per-function alarms with Fn::ForEach: SAM CLI expands AWS::LanguageExtensions locally
# only when asked (`--language-extensions`); CloudFormation itself always does.
export SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS := 1
.DEFAULT_GOAL := help

# Lambda runs python3.12, so the virtual environment does too (pyenv's 3.12 when present).
PYTHON ?= $(shell PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null \
                 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# checkov pins its own AWS tooling ranges: its own virtual environment too.
CHECKOV_VENV := .venv-checkov
# sam build resolves the python3.12 runtime from PATH.
SAM_PATH := $(dir $(PYTHON)):$(PATH)

.PHONY: help venv run invoke test test-pg15 lint format validate checkov build jwt-public-keys openapi smoke db-migrate db-reset \
	psql check-invariants bench fuzz clean \
	rds-ca-bundle

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt layers/shared/requirements.txt functions/tickets/requirements.txt \
                  layers/shared/pyproject.toml devtools/pyproject.toml
	@echo "Installing the development environment into $(VENV) (the first time takes a minute)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar off --disable-pip-version-check -r requirements-dev.txt \
		| { grep --line-buffered -E '^(Collecting|Installing|Successfully)' || true; }; test $${PIPESTATUS[0]} -eq 0
	touch $@

venv: $(BIN)/.installed ## Create .venv with everything installed

run: venv ## Serve the API on http://127.0.0.1:3000 (PORT=3000; embedded PostgreSQL, migrations, demo data)
	$(BIN)/python -m devtools.local_stack serve

invoke: venv ## Run one function on one event, like sam local invoke: make invoke FN=HealthFunction EVENT=events/health_get.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<LogicalId> EVENT=events/<file>.json"; exit 2; }
	@$(BIN)/python -m devtools.invoke "$(FN)" "$(EVENT)"

# The permission test expands the template with the SAM translator of $(SAM_VENV) (its pydantic pin is not ours).
test: venv $(SAM_VENV)/.installed ## Run the whole suite against a real PostgreSQL (DATABASE_URL, else an embedded one)
	$(BIN)/python -m pytest

test-pg15: venv ## The whole suite again on PostgreSQL 15 (Debian's package; installed when missing, as root)
	.ci/test-pg15

lint: venv ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

db-migrate: venv ## Apply migrations to DATABASE_URL (else to the local embedded PostgreSQL)
	$(BIN)/python -m devtools.local_stack migrate

db-reset: venv ## Replace the local embedded database with a fresh one holding the demo data
	$(BIN)/python -m devtools.local_stack reset

psql: venv ## Open psql on DATABASE_URL, else on the local embedded database (started if needed)
	@$(BIN)/python -m devtools.local_stack psql

jwt-public-keys: venv ## The JwtPublicKeys parameter for a stack: make jwt-public-keys SECRET=<JwtSigningKey secret ARN>
	@test -n "$(SECRET)" || { echo "usage: make jwt-public-keys SECRET=<arn of the stack's JwtSigningKey>"; exit 2; }
	@$(BIN)/python -m devtools.jwt_keys public --secret-id "$(SECRET)"

smoke: venv ## End-to-end check of a deployment over HTTP: make smoke URL=http://127.0.0.1:3000 (docs/smoke.md)
	@test -n "$(URL)" || { echo "usage: make smoke URL=<base URL of the deployment, e.g. http://127.0.0.1:3000>"; exit 2; }
	@$(BIN)/python -m devtools.smoke "$(URL)"

check-invariants: venv ## Report every violated invariant with its rows (DATABASE_URL, else the local database); exit 0 when all hold
	@$(BIN)/python -m devtools.local_stack check-invariants

openapi: venv ## Regenerate docs/openapi.json (and the copy /api/openapi.json serves) from the resolvers
	$(BIN)/python -m devtools.openapi --write

$(SAM_VENV)/.installed:
	@echo "Installing aws-sam-cli into $(SAM_VENV) (the first time takes a minute)"
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==1.170.0
	touch $@

validate: venv $(SAM_VENV)/.installed ## sam validate --lint and cfn-lint on template.yaml
	$(SAM) validate --lint --region us-east-1
	$(BIN)/cfn-lint template.yaml

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@echo "Installing checkov into $(CHECKOV_VENV) (the first time takes a minute)"
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

# checkov reads SAM's Globals only in a template without Fn::ForEach: it scans the template as CloudFormation
# expands it. Skips: on their resources in template.yaml, function-wide ones in .checkov.yaml.
checkov: venv $(CHECKOV_VENV)/.installed ## checkov on template.yaml (every finding fixed or skipped with its reason)
	@mkdir -p .aws-sam
	$(BIN)/python -m devtools.sam_template template.yaml > .aws-sam/template.expanded.json
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --skip-download -f .aws-sam/template.expanded.json

build: $(SAM_VENV)/.installed ## sam build (python3.12); prints its log only when it fails
	@mkdir -p .aws-sam
	@PATH="$(SAM_PATH)" $(SAM) build --region us-east-1 > .aws-sam/build.log 2>&1 \
		|| { cat .aws-sam/build.log; exit 1; }
	@echo "Built into .aws-sam/build (log: .aws-sam/build.log)"

RDS_CA_BUNDLE := layers/shared/ticketing/db/certs/rds-global-bundle.pem

rds-ca-bundle: ## Put the RDS CA bundle into the layer (needed before `sam build` when EnableRdsProxy=false)
	mkdir -p $(dir $(RDS_CA_BUNDLE))
	curl --fail --silent --show-error --location --output $(RDS_CA_BUNDLE) \
		https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
	grep -c 'BEGIN CERTIFICATE' $(RDS_CA_BUNDLE)

FUZZ_SECONDS ?= 180
fuzz: venv ## schemathesis against the local runner on a fresh database, FUZZ_SECONDS long (default 180)
	$(BIN)/python -m devtools.fuzz --max-time $(FUZZ_SECONDS)

bench: venv ## Benchmarks; results land in bench/results/
	$(BIN)/python -m bench

clean: ## Remove the virtual environments, build output and local data
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .local
