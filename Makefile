# Every target that runs code makes its own virtual environment first (.venv, Python 3.11).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: bootstrap test lint fmt demo thrift bench crossdock reliability clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

bootstrap: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check jaeger_client tests
	$(PY) -m ruff format --check jaeger_client tests
	$(PY) -m mypy

fmt: $(STAMP)
	$(PY) -m ruff format jaeger_client tests
	$(PY) -m ruff check --fix jaeger_client tests

test: lint
	$(PY) -m pytest -q

demo: $(STAMP)
	$(PY) examples/demo.py

# Regenerate the Thrift structs from idl/ with Debian's compiler (apt-get install thrift-compiler).
thrift:
	rm -rf jaeger_client/thrift_gen
	mkdir -p jaeger_client/thrift_gen
	for f in jaeger agent sampling; do \
	  thrift --gen py:package_prefix=jaeger_client.thrift_gen. -out jaeger_client/thrift_gen idl/$$f.thrift; \
	done
	rm -f jaeger_client/thrift_gen/*/*-remote

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
