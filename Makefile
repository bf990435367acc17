# Every target that runs code makes its own virtual environment first (.venv, Python 3.11).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_DIR := crossdock/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
LINTED := jaeger_client tests crossdock scripts examples benchmarks

.PHONY: bootstrap test test-matrix lint fmt demo agent thrift bench bench-smoke crossdock \
	crossdock-node reliability clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

bootstrap: $(STAMP)

# The Node jaeger-client peer for crossdock and the interop tests (npm registry).
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

crossdock-node: $(NODE_STAMP)

lint: $(STAMP)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m mypy

fmt: $(STAMP)
	$(PY) -m ruff format $(LINTED)
	$(PY) -m ruff check --fix $(LINTED)

test: lint $(NODE_STAMP)
	$(PY) -m pytest -q

# The suite on python3.9 and python3.13 and without thrift's C extension (.ci/run runs it too).
test-matrix: $(STAMP) $(NODE_STAMP)
	scripts/test-matrix.sh

demo: $(STAMP)
	$(PY) examples/demo.py

agent: $(STAMP)
	$(PY) -m jaeger_client.agent --strategies examples/strategies.json

crossdock: $(STAMP) $(NODE_STAMP)
	$(PY) -m crossdock.driver

# Benchmarks against upstream jaeger-client 4.8.0 and the OTel SDK (benchmarks/README.md).
# The first run installs both from PyPI into .bench/; a full run takes about 17 minutes.
# valgrind counts instructions for the instructions scenario (n/a without it): from Debian's apt.
# apt-get runs as root, or through sudo when it needs no password; otherwise the rows are n/a.
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo -n apt-get)
bench: $(STAMP)
	@command -v valgrind > /dev/null || ($(APT) update -qq && $(APT) install -y -qq valgrind) \
		|| echo "bench: no valgrind; the instructions rows will be n/a"
	$(PY) benchmarks/run.py $(BENCH_ARGS)

bench-smoke: $(STAMP)
	$(PY) benchmarks/run.py --smoke --impl upstream,ours,otel

# The hostile-input and fault-injection suite at full scale (make test runs it at ci scale).
reliability: $(STAMP)
	JAEGER_RELIABILITY_SCALE=full $(PY) -m pytest tests/reliability -q -p no:cacheprovider

# Regenerate the Thrift structs from idl/ with Debian's compiler (apt-get install thrift-compiler).
thrift:
	rm -rf jaeger_client/thrift_gen
	mkdir -p jaeger_client/thrift_gen
	for f in jaeger agent sampling; do \
	  thrift --gen py:package_prefix=jaeger_client.thrift_gen. -out jaeger_client/thrift_gen idl/$$f.thrift; \
	done
	rm -f jaeger_client/thrift_gen/*/*-remote

clean:
	rm -rf $(VENV) .venv-*/ .bench $(NODE_DIR)/node_modules build dist *.egg-info \
		.mypy_cache .ruff_cache .pytest_cache
