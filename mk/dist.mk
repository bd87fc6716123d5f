# Packages users install. `make dist` writes into dist/ (git-ignored):
#   tenure-X.Y.Z.tgz                      the npm package (`npm pack` of js/, wasm inside)
#   tenure-X.Y.Z-cp39-abi3-*.whl          the Python wheel (abi3: one file for CPython >= 3.9)
#   tenure-X.Y.Z.tar.gz                   the Python sdist (builds with maturin + Rust)
#   tenure{,-redis,-axum}-X.Y.Z.crate     the crates, each verified by `cargo package`
# `make test-dist` (part of `make test`) builds them all, checks what each holds and that
# every package carries the one version, and runs the README's quick starts against the
# tarball and the wheel, each installed into a fresh project (tests/dist/). Warm, it takes
# about a minute: every build reuses the checkout's (wasm, release module, debug deps).

DIST := $(CURDIR)/dist
# The one version number: Cargo.toml's [workspace.package] version. The crates and the
# wheel inherit it; js/package.json repeats it (npm has no include), which tests/dist checks.
VERSION := $(shell sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
NPM_TARBALL := $(DIST)/tenure-$(VERSION).tgz
SDIST := $(DIST)/tenure-$(VERSION).tar.gz
CRATES := tenure tenure-redis tenure-axum
# Wheels of the quick start's web servers, downloaded once (pinned by requirements-dev.txt)
# so the fresh venv of the test installs offline.
WHEELHOUSE := $(TOOLS)/wheelhouse

.PHONY: dist dist-npm dist-wheel dist-sdist dist-crates test-dist

dist: dist-npm dist-wheel dist-sdist dist-crates
	@echo "== dist/ (version $(VERSION))"; ls -l $(DIST)

# npm pack of js/ picks the files (package.json `files`). The README and the licence files
# live at the top of the checkout (npm skips symlinks), so they are added to the unpacked
# package, which is packed again (its `files` names the licence files).
dist-npm: build-js
	rm -rf $(DIST)/.npm && mkdir -p $(DIST)/.npm
	cd js && npm pack --silent --pack-destination $(DIST)/.npm >/dev/null
	tar -xzf $(DIST)/.npm/tenure-$(VERSION).tgz -C $(DIST)/.npm
	cp README.md LICENSE-MIT LICENSE-APACHE $(DIST)/.npm/package/
	rm -f $(DIST)/tenure-*.tgz
	cd $(DIST)/.npm/package && npm pack --silent --pack-destination $(DIST) >/dev/null
	rm -rf $(DIST)/.npm
	@echo "$(NPM_TARBALL): $$(stat -c%s $(NPM_TARBALL)) bytes"

# The wheel reuses build-python's release build (same profile, features and strip).
dist-wheel: build-python
	mkdir -p $(DIST)
	rm -f $(DIST)/tenure-*.whl
	cd python && $(VENV)/bin/maturin build --release --quiet --out $(DIST)

# maturin looks for a Cargo.toml beside pyproject.toml before it reads manifest-path, and
# says so as an "error" that is none; that line is dropped. The sdist must build, so a wheel
# is built from it (with the workspace's build cache: seconds, not minutes).
dist-sdist: venv
	mkdir -p $(DIST)
	rm -f $(DIST)/tenure-*.tar.gz
	cd python && $(VENV)/bin/maturin sdist --out $(DIST) 2>&1 | (grep -v 'manifest path .Cargo.toml. does not exist' || true)
	rm -rf $(DIST)/.sdist-check
	PATH=$(VENV)/bin:$$PATH CARGO_TARGET_DIR=$(CURDIR)/target $(PY) -m pip wheel -q --no-deps \
	  --disable-pip-version-check --no-build-isolation -w $(DIST)/.sdist-check $(SDIST)
	rm -rf $(DIST)/.sdist-check

# Each crate is packaged and built from its package alone; tenure-redis and tenure-axum
# resolve their sibling crates from the ones just packaged (cargo's local registry), so
# nothing has to be published first. Cargo takes a registry crate for immutable, but these
# change under one version number, so what it keeps of them is dropped first: the copies
# it unpacked under CARGO_HOME (registry/src/-<hash>/, once per name and version) and their
# builds in a target folder of their own (the dependencies' builds stay: seconds, warm).
PACKAGE_TARGET := $(CURDIR)/target/package-check
dist-crates: setup-rust
	mkdir -p $(DIST)
	rm -f $(DIST)/*.crate
	rm -rf $(foreach c,$(CRATES),$${CARGO_HOME:-$$HOME/.cargo}/registry/src/-*/$(c)-$(VERSION))
	rm -rf $(PACKAGE_TARGET)/debug/.fingerprint/tenure-*
	$(CARGO) package --allow-dirty --target-dir $(PACKAGE_TARGET) $(addprefix -p ,$(CRATES))
	cp $(foreach c,$(CRATES),$(PACKAGE_TARGET)/package/$(c)-$(VERSION).crate) $(DIST)/

$(STAMP)/wheelhouse: python/requirements-dev.txt | $(STAMP) venv
	rm -rf $(WHEELHOUSE)
	$(PY) -m pip download -q --disable-pip-version-check --only-binary=:all: -d $(WHEELHOUSE) \
	  $$(grep -iE '^(starlette|uvicorn)==' python/requirements-dev.txt)
	touch $@

test-dist: dist $(STAMP)/wheelhouse
	mkdir -p $(TOOLS)
	TENURE_DIST=$(DIST) TENURE_WHEELHOUSE=$(WHEELHOUSE) \
	  $(PY) -m pytest tests/dist -p no:cacheprovider 2>&1 | tee $(TOOLS)/test-dist.log

TEST_TARGETS += test-dist

.PHONY: clean-dist
clean-dist:
	rm -rf $(DIST)
clean: clean-dist

# Moves every package to a new version: `make set-version V=0.2.0`, then add the version's
# entry to CHANGELOG.md (tests/dist checks that it is there).
.PHONY: set-version
set-version:
	@test -n "$(V)" || { echo "usage: make set-version V=X.Y.Z"; exit 1; }
	sed -i -e '/^\[workspace\.package\]/,/^\[/s/^version = ".*"/version = "$(V)"/' \
	  -e '/^\[workspace\.dependencies\]/,/^\[/s/version = "=[^"]*"/version = "=$(V)"/' Cargo.toml
	cd js && npm version --no-git-tag-version --allow-same-version $(V) >/dev/null
	$(CARGO) update --workspace --offline -q
	$(CARGO) update --manifest-path fuzz/Cargo.toml -p tenure --offline -q
