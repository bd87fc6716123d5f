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

# $(STAMP)/redis-server is mk/redis.mk's REDIS_SERVER_STAMP (read after this file, so named here).
test-python: build-python $(STAMP)/redis-server
	mkdir -p $(TOOLS)
	$(PY) -m mypy.stubtest tenure
	$(PY) -m mypy --strict python/src/tenure
	$(PY) -m pytest python/tests $(wildcard tests/conformance/runners/test_python*.py) -p no:cacheprovider -W ignore::DeprecationWarning 2>&1 | tee $(TOOLS)/test-python.log

bench-python: build-python
	$(PY) python/bench/bench.py

# The Python half of `make bench-redis` (tenure.asgi vs starsessions over Redis).
bench-redis-python: build-python $(STAMP)/redis-server
	$(PY) python/bench/redis_bench.py

demo-python: build-python
	$(PY) python/examples/sessions/server.py

TEST_TARGETS += test-python
