# Python: the PyO3 module and the `tenure` pip package, tested with pytest and stubtest.
# Everything installs into the checkout's own .venv (created when missing).

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python

.PHONY: venv build-python test-python bench-python bench-redis bench-redis-python demo-python

$(VENV)/.stamp-dev: python/requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r python/requirements-dev.txt
	touch $@

venv: $(VENV)/.stamp-dev

build-python: venv
	cd python && VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin develop --release --quiet

# The sdists of the pinned Starlette and Flask, which ship their tests: test_peer_suites.py
# runs their session tests against tenure.asgi and tenure.flask. Downloaded once, kept here.
PEER_SDISTS := $(TOOLS)/peer-sdists
$(PEER_SDISTS)/.stamp: python/requirements-dev.txt | venv
	mkdir -p $(PEER_SDISTS)
	$(PY) -m pip download -q --disable-pip-version-check --no-binary :all: --no-deps -d $(PEER_SDISTS) \
		$$(grep -iE '^(starlette|flask)==' python/requirements-dev.txt)
	touch $@

# $(STAMP)/redis-server is mk/redis.mk's REDIS_SERVER_STAMP (read after this file, so named here).
test-python: build-python $(STAMP)/redis-server $(PEER_SDISTS)/.stamp
	mkdir -p $(TOOLS)
	$(PY) -m mypy.stubtest tenure
	$(PY) -m mypy --strict python/src/tenure
	TENURE_PEER_SDISTS=$(PEER_SDISTS) $(PY) -m pytest python/tests $(wildcard tests/conformance/runners/test_python*.py) -p no:cacheprovider -W ignore::DeprecationWarning 2>&1 | tee $(TOOLS)/test-python.log

bench-python: build-python
	$(PY) python/bench/bench.py

# The Python half of `make bench-redis` (tenure.asgi vs starsessions over Redis).
bench-redis-python: build-python $(STAMP)/redis-server
	$(PY) python/bench/redis_bench.py

demo-python: build-python
	$(PY) python/examples/sessions/server.py

TEST_TARGETS += test-python
