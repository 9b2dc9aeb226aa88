#!/usr/bin/env bash
# The quick checks before a commit: formatting, clippy, the unit tests, and
# the black-box tests that need no outside tool (the router with fakes, the
# Lambda handler's events, the SDK adapters against aws-smithy-mocks, the
# dependency rule). Under two minutes once built; ./scripts/test.sh runs
# everything CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== unit tests"
cargo test --locked --lib --quiet
echo "== router, Lambda events, SDK adapters, dependency rule"
cargo test --locked --test tests --quiet -- it::router:: it::lambda:: it::sdk_mocks:: it::architecture::
