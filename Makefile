# The two commands of the README's quick start: `make run` and `make test`, and the helpers
# around them. What they install stays inside the repository (.venv/, target/,
# infra/cdk/node_modules/, infra/.cache/); only `make package` may add Rust's aarch64 standard
# library to the toolchain, with rustup.

VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)

# `make` alone, or `make help`: the targets, one line each (from the `## ` after each target).
.DEFAULT_GOAL := help
help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: help run reset test lint test-cargo test-infra setup fetch package bench bench-deny-list bench-ocsp bench-routes bench-lambda fuzz fuzz-build deny schemathesis soak soak-short

# Python tools the tests use: moto_server, a local S3 and DynamoDB that speak the AWS wire
# protocol; python-hcl2, checkov and cfn-lint for the offline infrastructure checks;
# pyca/cryptography, an independent maker of certificates and CRLs for the interop tests; and for
# the API's contract (api-handler/openapi.yaml): PyYAML (scripts/openapi_contract.py),
# openapi-spec-validator, and Schemathesis, which tests the running stack against it.
# moto is pinned below 5.2: 5.2 answers GetBucketVersioning with a <GetBucketVersioningResponse>
# root instead of S3's <VersioningConfiguration>, which the Rust SDK (correctly) refuses to parse.
$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<5.2' 'python-hcl2>=8,<9' 'checkov>=3,<4' 'cfn-lint>=1,<2' 'cryptography>=42' \
	    'pyyaml>=6' 'openapi-spec-validator>=0.7,<0.10' 'schemathesis>=4.32,<5'
	touch $@

# cargo-lambda (build, watch, invoke) and zig (its cross linker), from PyPI, for `make package`
# and the test that runs the cargo lambda watch + invoke example.
$(VENV)/.cargo-lambda: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'cargo-lambda>=1.9,<2' 'ziglang>=0.13'
	touch $@

# The CDK app's packages (aws-cdk-lib, the CDK CLI pinned to major 2, TypeScript), from its lock file.
infra/cdk/node_modules/.installed: infra/cdk/package-lock.json
	cd infra/cdk && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# cargo-deny, built from crates.io into .tools/ (no binary download is needed or assumed), once
# per clone. A debug build: it compiles in about half the time of a release build on 2 cores,
# and its check of this workspace takes 3 s instead of 1 s. Its build directory (0.7 GB) goes
# once the binary is installed.
CARGO_DENY := $(CURDIR)/.tools/bin/cargo-deny
$(CARGO_DENY):
	cargo install --debug --locked --quiet cargo-deny@0.20.2 --root $(CURDIR)/.tools --target-dir $(CURDIR)/target/tools
	rm -rf $(CURDIR)/target/tools

# The downloads (pip, npm) run while cargo-deny compiles: -j, whatever make was called with.
SETUP_STAMPS := $(VENV)/.installed $(VENV)/.cargo-lambda infra/cdk/node_modules/.installed $(CARGO_DENY)
setup: ## install the test tools into the repository (.venv, .tools, node_modules)
	@$(MAKE) --no-print-directory -j4 $(SETUP_STAMPS)

# The whole product locally, no AWS account: a development PKI, a truststore, a file:// CRL, and
# the real authorizer and api-handler binaries behind an mTLS gateway on https://127.0.0.1:8443.
run: ## the whole product locally on https://127.0.0.1:8443 (no AWS account)
	cargo build --locked -p authorizer -p api-handler -p truststore -p gateway
	target/debug/gateway dev

# Both functions as Lambda zips (target/lambda/*/bootstrap.zip) with cargo lambda, arm64 where the
# aarch64 standard library is installed (x86_64 otherwise, and it says so), each checked for an
# executable bootstrap.
package: $(VENV)/.cargo-lambda ## both functions as Lambda zips (arm64 where it can) in target/lambda/
	scripts/package

# Start the local stack over: new PKIs, no readings, nothing revoked (`make run` reuses .local/,
# so a device revoked in one run stays revoked in the next). `gateway reset` refuses a .local/
# that holds anything a stack does not, as `gateway dev --fresh` does.
reset: ## remove the local stack (.local/): new PKIs, no readings, nothing revoked
	cargo run --locked --quiet -p gateway -- reset --dir .local

# The full test suite: formatting, lints, then every test (moto_server on 127.0.0.1 included),
# the API's contract (api-handler/openapi.yaml) validated, and Schemathesis against the stack.
# Two pairs of steps run side by side, each pair's output printed whole when it ends (-Otarget):
# the downloads of `setup` beside the lints (a download waits on the network, a lint on the
# CPU), and the infrastructure checks beside the tests (which mostly wait on loopback servers,
# moto and timers). Everything else runs alone: the soak and Schemathesis measure latencies.
test: ## the full test suite: fmt, clippy, rustdoc, cargo deny, infra checks, every test, Schemathesis (what CI runs)
	cargo fmt --all -- --check
	@$(MAKE) --no-print-directory -j -Otarget setup lint
	$(MAKE) deny
	$(VENV)/bin/openapi-spec-validator api-handler/openapi.yaml
	cargo test --locked --workspace --no-run
	@$(MAKE) --no-print-directory -j2 -Otarget test-cargo test-infra
	$(MAKE) soak-short
	$(MAKE) schemathesis
	$(MAKE) fuzz-build

# The steps of `make test`, for running one alone.
lint: ## clippy and rustdoc, warnings denied
	cargo clippy --locked --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps

test-cargo: $(VENV)/.installed ## every Rust test (cargo test --workspace)
	cargo test --locked --workspace

# infra/check reuses the authorizer binary the test build made, and builds one if there is none.
test-infra: $(VENV)/.installed infra/cdk/node_modules/.installed ## the offline infrastructure checks (Terraform, CDK, checkov, cfn-lint)
	AUTHORIZER_BIN=$(CURDIR)/target/debug/authorizer infra/check

# The soak (soak/, docs/soak.md): the real binaries behind the local gateway, Lambda's
# lifecycle (frozen between invocations, recycled, several instances), every client kind, and
# a seeded schedule of faults on the CRL, deny list, truststore and DynamoDB; an oracle counts
# wrong Allows, wrong Denies, lost readings and unexplained 5xx. Loopback only; it stops by
# itself. `make soak` runs release builds for SOAK_SECONDS (default 600); SOAK_SEED replays
# a run (every run prints its seed). The report: target/soak/report.json.
SOAK_SECONDS ?= 600
soak: $(VENV)/.installed ## traffic under faults for SOAK_SECONDS (default 600), release builds; SOAK_SEED replays a run
	cargo build --release --locked -p authorizer -p api-handler -p mtls-soak
	target/release/soak --seconds $(SOAK_SECONDS) --bin-dir target/release --out target/soak \
	    $(if $(SOAK_SEED),--seed $(SOAK_SEED)) $(if $(SOAK_MIN_INJECTIONS),--min-injections $(SOAK_MIN_INJECTIONS))

# The soak's short version in `make test`: 60 s, a fixed seed, the debug builds the tests made,
# so a regression in any fault path fails CI. Stopped after 5 minutes whatever happens.
soak-short: $(VENV)/.installed ## the 60 s soak with a fixed seed (part of make test)
	cargo build --locked -p authorizer -p api-handler -p mtls-soak
	timeout 300 target/debug/soak --seconds 60 --seed 20261206 --bin-dir target/debug --out target/soak-short

# Schemathesis, a property-based API tester, against `gateway dev` as a REST API and as an HTTP
# API, with api-handler/openapi.yaml and the good device's certificate: positive and negative
# data from a fixed seed, a bounded number of examples, loopback only. Stopped after 15 minutes
# whatever happens (a run takes well under a minute once the binaries are built).
schemathesis: $(VENV)/.installed ## Schemathesis against the local stack (REST and HTTP API) with api-handler/openapi.yaml
	timeout 900 scripts/schemathesis

# Every crate Cargo.lock names, for every platform. cargo deny reads `cargo metadata` for all
# targets (Windows and UEFI crates too), and no Linux build downloads those, so its --offline run
# would fail on a fresh machine without this step. cargo skips what it already has.
fetch: ## download every crate Cargo.lock names, for every platform
	cargo fetch --locked

# Licences, bans (a second version of a crypto or X.509 crate, OpenSSL, wildcards) and sources
# (crates.io only), from deny.toml. Advisories need the RustSec database, which CI cannot download.
deny: $(CARGO_DENY) fetch ## licences, bans and sources of every crate (cargo deny, offline)
	$(CARGO_DENY) --offline check licenses bans sources

# The fuzz targets (authorizer/fuzz, truststore/fuzz) compile and link, so they do not rot. They
# share target/ and the workspace's dev profile, so this reuses what the tests built.
fuzz-build: ## check that the fuzz targets compile and link
	cargo fmt --manifest-path authorizer/fuzz/Cargo.toml -- --check
	cargo fmt --manifest-path truststore/fuzz/Cargo.toml -- --check
	cargo build --locked --manifest-path authorizer/fuzz/Cargo.toml --bins --target-dir target
	cargo build --locked --manifest-path truststore/fuzz/Cargo.toml --bins --target-dir target

# Every fuzz target for FUZZ_SECONDS (default 60) each, with cargo fuzz on nightly, from generated
# seeds; prints executions and findings (not part of make test).
fuzz: ## run every fuzz target for FUZZ_SECONDS (default 60) each, on nightly
	scripts/fuzz

# Authorizer decision latency and CRL load time, then the api-handler's cold start and request
# round trip (release builds; not part of `make test`).
bench: ## decision latency, CRL load time, api-handler cold start (release builds)
	cargo bench --locked -p authorizer --bench perf
	cargo build --release --locked -p api-handler
	cargo run --release --locked -q -p mtls-tests --example api-handler-bench -- target/release

# The release authorizer in Lambda's CPU and memory shape: a cgroup v1 CPU quota of
# memory_mb / 1769 of one core and a memory limit, CRLs over loopback HTTP and moto's S3.
# Needs root and cgroup v1 (it says so and exits cleanly without them); not part of
# `make test`. BENCH_RUNS, BENCH_SHAPES, BENCH_ENTRIES, BENCH_BIG_ENTRIES: see the bench.
# The deny list's and CA revocation's cost, side by side with the same stack without them: a warm
# decision for a device under root -> issuing CA, and the cold start with a 100,000-entry list.
bench-deny-list: ## warm decision and cold start with a 100,000-entry deny list and CA revocation
	cargo bench --locked -p authorizer --bench deny_list

bench-ocsp: ## warm and first decisions with OCSP beside a CRL, against a loopback openssl-made responder
	cargo bench --locked -p authorizer --bench ocsp

bench-routes: ## warm decision with 20 per-route rules beside none, under each policy scope
	cargo bench --locked -p authorizer --bench routes

bench-lambda: $(VENV)/.installed ## the release authorizer in Lambda's CPU and memory shape (root, cgroup v1)
	cargo bench --locked -p authorizer --bench lambda_shape
