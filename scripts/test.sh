#!/usr/bin/env bash
# The whole test suite. It installs what the tests need into the checkout
# (a Python venv with moto[server]), so it runs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/moto_server ]; then
  echo "== installing moto[server] into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet
echo "== cargo test"
SFN_CALLBACKS_REQUIRE_MOTO=1 MOTO_SERVER="$PWD/.venv/bin/moto_server" cargo test --locked
