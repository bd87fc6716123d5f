# JavaScript: the wasm core (wasm-bindgen, pinned CLI) and the npm package `tenure` in js/.

WASM_BINDGEN_VERSION := 0.2.130
TOOLS_HOME := $(HOME)/.cache/tenure/tools
WASM_BINDGEN := $(TOOLS_HOME)/bin/wasm-bindgen
# Two modules from one binding crate (bindings/wasm/Cargo.toml, docs/js.md):
# - Node (js/dist/node): every feature, profile `wasm-node` (opt-level 3: built for speed).
# - browser (js/dist/web, what a browser user downloads): no Redis, no FileStore index
#   (`--no-default-features`), profile `wasm` (opt-level "z"), std rebuilt for size by a
#   pinned nightly with panics that abort without formatting (-Cpanic=immediate-abort) or
#   carrying source locations (-Zlocation-detail=none: no file paths of the build machine), and
#   sha2's compact SHA-256 (a loop, not 64 unrolled rounds: 2 KB less gzipped; one hash per
#   signed cookie, so speed does not show); in its own target folder, so its RUSTFLAGS never
#   invalidate the stable builds.
WASM_NODE := $(CURDIR)/target/wasm32-unknown-unknown/wasm-node/tenure_wasm.wasm
WASM_WEB_TARGET := $(CURDIR)/target/web
WASM_WEB := $(WASM_WEB_TARGET)/wasm32-unknown-unknown/wasm/tenure_wasm.wasm
NIGHTLY := nightly-2026-05-20
# The name section (function names, for stack traces) was 236 KB of the 823 KB module.
WASM_BINDGEN_FLAGS := --remove-name-section --remove-producers-section

.PHONY: build-js test-js demo bench-redis-js bench-js

# The CLI must be exactly the version of the wasm-bindgen crate (pinned with `=` in
# bindings/wasm/Cargo.toml); it is cached outside the checkout so CI reuses it.
$(WASM_BINDGEN):
	cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --root $(TOOLS_HOME)

wasm-bindgen-check: $(WASM_BINDGEN)
	@$(WASM_BINDGEN) --version | grep -q " $(WASM_BINDGEN_VERSION)" || \
	  cargo install --force wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --root $(TOOLS_HOME)

# The browser tests drive Debian's chromium (a browser download of playwright's own can't
# work here).
$(STAMP)/chromium: | $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	touch $@

js/node_modules/.package-lock.json: js/package-lock.json
	cd js && npm ci --no-audit --no-fund

# The pinned nightly (only the browser module uses it; everything else is stable). Minimal
# profile plus the standard library's source, which -Zbuild-std compiles.
$(STAMP)/rust-$(NIGHTLY): | $(STAMP)
	rustup toolchain install $(NIGHTLY) --profile minimal --component rust-src
	touch $@

size = $$(stat -c%s $(1)) bytes, $$(gzip -9c $(1) | wc -c) gzipped

build-js: setup-rust $(STAMP)/rust-$(NIGHTLY) wasm-bindgen-check js/node_modules/.package-lock.json
	cargo build -p tenure-wasm --target wasm32-unknown-unknown --profile wasm-node
	RUSTFLAGS='-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none --cfg sha2_backend_soft="compact"' \
	  CARGO_TARGET_DIR=$(WASM_WEB_TARGET) \
	  cargo +$(NIGHTLY) build -p tenure-wasm --no-default-features --target wasm32-unknown-unknown \
	  --profile wasm -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
	rm -rf js/dist/node
	$(WASM_BINDGEN) --target nodejs --weak-refs $(WASM_BINDGEN_FLAGS) --out-dir js/dist/node $(WASM_NODE)
	rm -rf js/dist/web
	$(WASM_BINDGEN) --target web --weak-refs $(WASM_BINDGEN_FLAGS) --out-dir js/dist/web $(WASM_WEB)
	# The API layer is written once (CommonJS for Node); browsers get the same file as ESM.
	sed -e "s/^'use strict';//" -e 's/^module.exports = { createApi };/export { createApi };/' js/src/api.cjs > js/dist/web/api.mjs
	@echo "browser module (js/dist/web): $(call size,js/dist/web/tenure_wasm_bg.wasm)"
	@echo "Node module (js/dist/node): $(call size,js/dist/node/tenure_wasm_bg.wasm)"
	# No wasm-opt: Debian's binaryen (108) run after wasm-bindgen corrupts the externref table
	# that Rust 1.95 + wasm-bindgen 0.2.130 emit; npm's binaryen 132 works but its output
	# compresses worse (browser module: 157,710 -> 159,743 bytes gzipped with
	# -Oz --converge; -Oz, -Os alike), so it is not run.

# The Redis tests start redis-servers of their own; mk/redis.mk (included after this file,
# hence the ?=) installs it.
REDIS_SERVER_STAMP ?= $(STAMP)/redis-server

test-js: build-js $(STAMP)/chromium $(REDIS_SERVER_STAMP)
	mkdir -p $(TOOLS)
	cd js && npx tsc --noEmit -p tsconfig.json
	cd js && node --test --test-reporter=tap test/ 2>&1 | tee $(TOOLS)/test-js.log

demo: build-js
	node js/examples/sessions/server.mjs

# The Node half of the Redis benchmark: express-session + connect-redis against
# tenure/express + tenure/redis, each on a redis-server of its own (printed, not asserted).
bench-redis-js: build-js $(REDIS_SERVER_STAMP)
	node js/bench/redis.mjs

TEST_TARGETS += test-js

# The JS benchmarks (printed, not asserted): the size of both wasm modules, express-session's
# MemoryStore against tenure's SessionManager at the library level, Express 5 over HTTP
# (autocannon, 50 connections) with express-session, tenure/express and no session
# middleware, start-up time, and the FileStore with and without its index at 1k and 30k
# sessions.
bench-js: build-js
	node js/bench/size.mjs
	node js/bench/lib.mjs
	node js/bench/http.mjs
	node js/bench/middleware.mjs
	node js/bench/startup.mjs
	node js/bench/file-store.mjs

bench: bench-js
