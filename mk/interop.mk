# Cross-language: the demo API over real HTTP against the Node and the Python server (and a
# session handed between them), and one session through Python, Node and Rust.

.PHONY: test-interop

test-interop: build-js build-python
	mkdir -p $(TOOLS)
	cargo build -q -p tenure --example interop --example file_counter
	$(PY) -m pytest tests/interop tests/demo -p no:cacheprovider 2>&1 | tee $(TOOLS)/test-interop.log

TEST_TARGETS += test-interop

# The soak (printed, not asserted; not part of `make test`): the Node and the Python demo
# under continuous logins and requests with short timeouts for SOAK_SECONDS (default 180).
.PHONY: soak
soak: build-js build-python
	$(PY) scripts/soak.py
