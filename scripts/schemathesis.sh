#!/usr/bin/env bash
# Checks the running server against openapi.yaml with schemathesis.
# Usage: scripts/schemathesis.sh <sfn-callbacks binary> [seconds]
#
# Every check runs except positive_data_acceptance: a valid callback needs a
# sealed payload, and a valid CreateUrls needs a future expiration, neither of
# which a schema can generate, so "schema-valid but refused" is expected there.
set -euo pipefail
bin=$(realpath "$1")
seconds=${2:-45}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(
  cd "$work"
  # A closed local port as the AWS endpoint: nothing leaves the machine.
  # No rate limit: past it, every /respond answer would be the same 429.
  env AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL=http://127.0.0.1:9 RUST_LOG=warn \
    "$bin" serve --listen "127.0.0.1:$port" --enable-post-actions --enable-output-parameters \
    --respond-rate-limit off \
    >"$work/serve.log" 2>&1 &
  echo $! >"$work/pid"
)
trap 'kill "$(cat "$work/pid")" 2>/dev/null || true; rm -rf "$work"' EXIT
up=no
for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:$port/health" >/dev/null; then up=yes; break; fi
  sleep 0.1
done
if [ "$up" != yes ]; then
  echo "the server did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi
.venv/bin/st \
  --config-file tests/schemathesis.toml run openapi.yaml --url "http://127.0.0.1:$port" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-time "$seconds" --workers 2 "${@:3}"
