# Fuzzing (not part of `make test`): `make fuzz` runs every cargo-fuzz target in fuzz/ for
# FUZZ_SECONDS each (FUZZ_TARGETS to pick some), on a nightly toolchain with cargo-fuzz,
# both installed when missing (cargo-fuzz cached outside the checkout, like wasm-bindgen).
# Corpora grow under fuzz/corpus/<target>/ (git-ignored); the small seeds committed under
# fuzz/seeds/<target>/ are read too. A crash stops the run and leaves its input in
# fuzz/artifacts/<target>/.

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(shell sed -n 's/^name = "\(.*\)"/\1/p' fuzz/Cargo.toml | grep -v tenure-fuzz)
CARGO_FUZZ := $(HOME)/.cache/tenure/tools/bin/cargo-fuzz

.PHONY: fuzz setup-fuzz

$(STAMP)/nightly: | $(STAMP)
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	touch $@

$(CARGO_FUZZ):
	cargo install cargo-fuzz --locked --root $(HOME)/.cache/tenure/tools

setup-fuzz: $(STAMP)/nightly $(CARGO_FUZZ)

fuzz: setup-fuzz
	@mkdir -p $(TOOLS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t fuzz/seeds/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s (log: .tools/fuzz-$$t.log)"; \
	  (cd fuzz && PATH=$(dir $(CARGO_FUZZ)):$$PATH cargo +nightly fuzz run $$t corpus/$$t seeds/$$t -- \
	     -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1) > $(TOOLS)/fuzz-$$t.log 2>&1 \
	    || { tail -40 $(TOOLS)/fuzz-$$t.log; exit 1; }; \
	  grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units)' $(TOOLS)/fuzz-$$t.log; \
	done
