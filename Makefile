# Two commands: `make run` and `make test`. Each does every set-up step first, idempotently.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
APT_PACKAGES := tesseract-ocr tesseract-ocr-tha poppler-utils fonts-thai-tlwg libraqm0 chromium postgresql
FONTSOURCE := build/fonts/node_modules/@fontsource
export OMP_THREAD_LIMIT := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: run test lint setup system venv fonts train-digits samples bench clean

run: setup
	$(PY) -m saraban.demo

test: setup fonts
	$(PY) -m pytest -q

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy pipeline storage flows saraban review

setup: system venv

# Debian packages, installed only when one is missing.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: .venv/.installed

.venv/.installed: pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $@

# Thai fonts from the npm registry (fontsource): training fonts for the digit model and
# held-out fonts for its tests and the accuracy benchmark.
fonts: $(FONTSOURCE)/.installed

$(FONTSOURCE)/.installed: training/fonts.json
	$(PY) -m training.fonts install
	touch $@

train-digits: setup fonts
	$(PIP) install -q -e '.[train]'
	$(PY) -m training.digits

samples: setup
	$(PY) -m samples.build_directory ../shared/fixtures/real-texts/distribution-list-lampang.txt
	rm -rf samples/letters && $(PY) -m samples.generate --out samples/letters --committed

bench: setup fonts
	$(PY) -m bench.accuracy
	$(PY) -m bench.register
	$(PY) -m bench.storage
	$(PY) -m bench.throughput
	$(PY) -m bench.web

clean:
	rm -rf .venv build .pytest_cache .mypy_cache .ruff_cache
