# Rust web servers: the tower/axum layer (crates/tenure-axum), the demo's Rust twin, and
# the axum + tenure versus axum + tower-sessions benchmark. The crate's own tests run in
# test-rust (`cargo test --workspace`).

.PHONY: build-rust-demo demo-rust bench-rust-web

# The demo binary the cross-language demo tests start (tests/demo/test_sessions_demo.py).
build-rust-demo: setup-rust
	$(CARGO) build -q -p tenure-axum --example demo

demo-rust: setup-rust
	$(CARGO) run -q -p tenure-axum --release --example demo

# Printed, not asserted: requests per second and lost increments over HTTP, then each
# layer's own cost per request in process (no sockets); medians of several rounds.
bench-rust-web: setup-rust
	$(CARGO) bench -p tenure-axum --bench compare
	$(CARGO) bench -p tenure-axum --bench overhead

test-interop: build-rust-demo
bench: bench-rust-web
