#!/usr/bin/env bash
# The whole test suite. It installs what the tests need into the checkout
# (a Python venv with moto[server], cfn-lint, schemathesis and the Lambda
# durable-execution SDK with its local runner, dex-local-runner; Debian's
# Chromium; playwright-core from npm; the CDK library's npm packages), so it
# runs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# The tools' Python: the newest 3.12+ the machine has (schemathesis trips
# over an AST bug in CPython 3.11 before 3.11.8), else python3.
pick_python() {
  for candidate in "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3 python3.13 python3.12; do
    if "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  echo python3
}
tools='moto[server]>=5.1,<6 cfn-lint>=1.20,<2 schemathesis>=4.3,<5 aws-durable-execution-sdk-python>=3,<4 aws-durable-execution-sdk-python-testing>=1.4,<2'
if [ ! -f .venv/.tools ] || [ "$(cat .venv/.tools)" != "$tools" ]; then
  echo "== installing test tools into .venv: $tools"
  rm -rf .venv
  "$(pick_python)" -m venv .venv
  # shellcheck disable=SC2086
  .venv/bin/pip install --quiet --disable-pip-version-check $tools
  echo "$tools" > .venv/.tools
fi

# The browser tests: Debian's Chromium, playwright-core (no browser download)
# and oidc-provider (the OpenID Provider stand-in, tests/browser/provider.mjs).
# IPA Gothic lets the screenshots of the Japanese pages show their words.
if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-ipafont-gothic >/dev/null 2>&1; then
  echo "== installing chromium and a Japanese font"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-ipafont-gothic >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/oidc-provider ]; then
  echo "== installing playwright-core and oidc-provider"
  npm ci --prefix tests/browser --no-audit --no-fund --silent
fi

# The CDK construct library's own dependencies (aws-cdk-lib, TypeScript).
if [ ! -d infra/cdk/node_modules/aws-cdk-lib ] || [ ! -d infra/cdk/node_modules/typescript ]; then
  echo "== installing the CDK library's dependencies"
  npm ci --prefix infra/cdk --no-audit --no-fund --silent
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet
echo "== cargo test"
mkdir -p target
SFN_CALLBACKS_REQUIRE_MOTO=1 SFN_CALLBACKS_REQUIRE_BROWSER=1 SFN_CALLBACKS_REQUIRE_DURABLE=1 MOTO_SERVER="$PWD/.venv/bin/moto_server" \
  cargo test --locked 2>&1 | tee target/test.log
echo "== cfn-lint infra/"
.venv/bin/cfn-lint infra/*.yaml
echo "== infra/cdk: tsc --noEmit, then its tests (cfn-lint on each synthesized template)"
(cd infra/cdk && npx --no-install tsc --noEmit \
  && SFN_CALLBACKS_REQUIRE_CFN_LINT=1 SFN_CALLBACKS_CFN_LINT="$PWD/../../.venv/bin/cfn-lint" npm test --silent) 2>&1 | tee target/cdk-test.log
echo "== schemathesis against serve"
./scripts/schemathesis.sh target/debug/sfn-callbacks 45
echo "== fuzzing: payload opening, session and sign-in state opening, CreateUrls parsing, callback decisions, Slack interactions (60 s each)"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
for target in open_payload open_sealed create_request callback_request slack_interaction; do
  log="target/fuzz-$target.log"
  # cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
  if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" -- -max_total_time=60 -rss_limit_mb=4096) >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzzing $target found a problem (the input is under fuzz/artifacts/$target/)"
    exit 1
  fi
  echo "$target: $(grep -E '^Done' "$log")"
done

# One closing line for the whole run: the tests cargo and the CDK library
# ran (every later step above would have stopped the script had it failed).
awk '/^test result:/ { passed += $4; failed += $6; skipped += $8 }
     /^# pass / { passed += $3 } /^# fail / { failed += $3 } /^# skipped / { skipped += $3 }
     END { printf "summary: %d passed, %d failed, %d skipped\n", passed, failed, skipped }' target/test.log target/cdk-test.log
