# tenure — `make demo` (the main job) and `make test` (every test in every language).
# Every target installs what it needs; installs are cached under .tools/ and ~/.cargo.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
STAMP := $(TOOLS)/stamps

.PHONY: all build build-rust fresh-logs test demo bench setup-rust test-rust lint-rust check-nostd clean

all: build

$(STAMP):
	mkdir -p $(STAMP)

# Rust targets for the no_std check (and, later, wasm).
$(STAMP)/rust-targets: | $(STAMP)
	rustup target add thumbv7em-none-eabihf wasm32-unknown-unknown
	rustup component add clippy rustfmt
	touch $@

setup-rust: $(STAMP)/rust-targets

# Every artifact: the Rust crates, the npm package's wasm (Node and web), the Python module.
build: build-rust build-js build-python

build-rust: setup-rust
	$(CARGO) build --workspace --all-targets

# The core builds without std on a bare-metal target: proof it is truly no_std + alloc.
check-nostd: setup-rust
	$(CARGO) build -p tenure --no-default-features --target thumbv7em-none-eabihf

lint-rust: setup-rust
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tenure --no-default-features --all-targets -- -D warnings
	# The browser wasm module is tenure-wasm without its default features (mk/js.mk).
	$(CARGO) clippy -p tenure-wasm --no-default-features --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -p tenure
	# The fuzz targets run on nightly only, but they must keep compiling against the API.
	$(CARGO) check --manifest-path fuzz/Cargo.toml --locked

fresh-logs:
	mkdir -p $(TOOLS)
	rm -f $(TOOLS)/test-*.log

test-rust: setup-rust
	$(CARGO) test --workspace 2>&1 | tee $(TOOLS)/test-rust.log
	$(CARGO) test -p tenure --no-default-features --lib 2>&1 | tee -a $(TOOLS)/test-rust.log

# Each language adds its own targets in mk/<lang>.mk (build-<lang>, test-<lang>, writing
# its test output to $(TOOLS)/test-<lang>.log for the closing summary line).
-include mk/*.mk

TEST_TARGETS ?=
test: fresh-logs lint-rust check-nostd test-rust $(TEST_TARGETS)
	@bash scripts/summary.sh $(TOOLS)/test-*.log

bench: setup-rust
	$(CARGO) bench -p tenure

clean:
	$(CARGO) clean
	rm -rf $(TOOLS) js/dist .venv
