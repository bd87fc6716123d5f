# Python: the PyO3 module and the `tenure` pip package, tested with pytest and stubtest.
# Everything installs into the checkout's own .venv (created when missing).

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python

.PHONY: venv build-python test-python bench-python demo-python

$(VENV)/.stamp-dev: python/requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r python/requirements-dev.txt
	touch $@

venv: $(VENV)/.stamp-dev

build-python: venv
	cd python && VIRTUAL_ENV=$(VENV) $(VENV)/bin/maturin develop --release --quiet

test-python: build-python
	mkdir -p $(TOOLS)
	$(PY) -m mypy.stubtest tenure
	$(PY) -m mypy --strict python/src/tenure
	$(PY) -m pytest python/tests $(wildcard tests/conformance/runners/test_python*.py) -p no:cacheprovider -W ignore::DeprecationWarning 2>&1 | tee $(TOOLS)/test-python.log

bench-python: build-python
	$(PY) python/bench/bench.py

demo-python: build-python
	$(PY) python/examples/sessions/server.py

TEST_TARGETS += test-python
