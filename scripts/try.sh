#!/usr/bin/env bash
# A real approval on this machine, with no AWS account: moto_server (a local
# AWS emulator) runs a state machine whose one Task waits for its task token,
# `sfn-callbacks serve` turns that token into an approve and a reject link,
# and pressing one ends the execution. Everything listens on 127.0.0.1 only.
#
#   ./scripts/try.sh                    # prints the links, waits for a click
#   TRY_CLICK=approve ./scripts/try.sh  # presses the approve link itself
#
# Settings (environment):
#   SFN_CALLBACKS_BIN  the binary to run (default: `cargo build --release`,
#                      about 15 minutes on 2 cores the first time)
#   TRY_WAIT_SECS      how long to wait for the decision (default 600)
#   TRY_CLICK          approve or reject: press that link instead of waiting
#                      for a person
#
# moto[server] goes into ./.venv (made if it has no moto_server). Both
# servers run in a temporary directory (the demo keyring is made there, not
# in the checkout) and are stopped when the script ends. The task token is
# never printed; the links are.
set -euo pipefail

caller_dir=$PWD
cd "$(dirname "$0")/.."
root=$PWD

say() { printf '%s\n' "$*" >&2; }
die() {
  say "try.sh: $*"
  exit 1
}

wait_secs=${TRY_WAIT_SECS:-600}
[[ $wait_secs =~ ^[0-9]+$ ]] || die "TRY_WAIT_SECS must be a number of seconds, not \"$wait_secs\""
click=${TRY_CLICK:-}
case $click in
  '' | approve | reject) ;;
  *) die "TRY_CLICK must be approve or reject, not \"$click\"" ;;
esac
command -v curl >/dev/null 2>&1 || die "curl is needed"

# --- the emulator: moto[server] in the project's venv -----------------------
venv=$root/.venv
if [ ! -x "$venv/bin/moto_server" ]; then
  say "== installing moto[server] into .venv (once)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi
py=$venv/bin/python

# --- the service ------------------------------------------------------------
if [ -n "${SFN_CALLBACKS_BIN:-}" ]; then
  bin=$SFN_CALLBACKS_BIN
  case $bin in
    /*) ;;
    */*) bin=$caller_dir/$bin ;;
    *) bin=$(command -v "$bin") || die "SFN_CALLBACKS_BIN=$SFN_CALLBACKS_BIN: no such command" ;;
  esac
else
  say "== cargo build --release (the first build takes about 15 minutes on 2 cores; later ones are instant)"
  cargo build --release
  bin=${CARGO_TARGET_DIR:-$root/target}/release/sfn-callbacks
  case $bin in /*) ;; *) bin=$root/$bin ;; esac
fi
[ -x "$bin" ] || die "$bin is not an executable"

# --- a scratch directory, and stopping what this script started -------------
work=$(mktemp -d "${TMPDIR:-/tmp}/sfn-callbacks-try.XXXXXX")
moto_pid=
serve_pid=
wait_pid=
show_logs=yes
cleanup() {
  local status=$?
  trap - EXIT
  set +e
  if [ "$status" -ne 0 ] && [ -n "$show_logs" ]; then
    # What the servers said last (no token: serve never logs one, and moto's
    # lines that mention one are left out).
    for log in serve moto; do
      if [ -s "$work/$log.log" ]; then
        say "-- last lines of the $log log:"
        grep -iv token "$work/$log.log" | tail -n 20 >&2
      fi
    done
  fi
  for pid in "$wait_pid" "$serve_pid" "$moto_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      # A bounded wait for it to go: 5 s, then SIGKILL.
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
# Ctrl-C (or a TERM) is how a person stops waiting: no logs then.
trap 'show_logs=; exit 130' INT
trap 'show_logs=; exit 143' TERM

# The processes below see only what they need: nothing from this shell's AWS
# settings, profiles or proxies (HOME is the scratch directory, so no
# ~/.aws/config either), and no KEYRING, API_KEYS or other serve settings.
clean_env=(env -i "PATH=$PATH" "HOME=$work" "TMPDIR=${TMPDIR:-/tmp}" "LANG=C.UTF-8")

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $3 seconds for $1 to answer, while process $2 runs.
wait_until_up() {
  local url=$1 pid=$2 secs=$3 what=$4
  local deadline=$((SECONDS + secs))
  until curl -s --noproxy '*' --max-time 2 -o /dev/null "$url"; do
    kill -0 "$pid" 2>/dev/null || die "$what exited early"
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not answer $url in $secs s"
    sleep 0.2
  done
}

moto_port=$(free_port)
moto=http://127.0.0.1:$moto_port
say "== moto_server on $moto"
"${clean_env[@]}" "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
wait_until_up "$moto/moto-api/" "$moto_pid" 60 moto_server
# moto runs state machines only when told to.
curl -sS --noproxy '*' --max-time 10 --fail -o /dev/null -X POST "$moto/moto-api/config" \
  -H 'Content-Type: application/json' -d '{"stepfunctions": {"execute_state_machine": true}}'

aws_env=("AWS_ENDPOINT_URL=$moto" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1)
# boto3 reads its region from AWS_DEFAULT_REGION, not AWS_REGION.
py_env=("${aws_env[@]}" AWS_DEFAULT_REGION=us-east-1)

serve_port=$(free_port)
serve=http://127.0.0.1:$serve_port
say "== sfn-callbacks serve on $serve (its keyring: a file in a temporary directory)"
(cd "$work" && exec "${clean_env[@]}" "${aws_env[@]}" RUST_LOG=info "$bin" serve --listen "127.0.0.1:$serve_port") \
  >"$work/serve.log" 2>&1 &
serve_pid=$!
wait_until_up "$serve/health" "$serve_pid" 30 "sfn-callbacks serve"

# --- a waiting execution, and its links ---------------------------------------
# One Python run does the AWS part and CreateUrls, so the task token stays
# inside it: it writes the execution's ARN and the two links, nothing else.
say "== a state machine whose Task waits for its token, and one execution of it"
"${clean_env[@]}" "${py_env[@]}" SERVE="$serve" WAIT_SECS="$wait_secs" "$py" - >"$work/links" <<'PY'
import json, sys, time, urllib.request, os
import boto3
from botocore.config import Config

config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
sqs = boto3.client("sqs", config=config)
sfn = boto3.client("stepfunctions", config=config)

queue_url = sqs.create_queue(QueueName="try-tokens")["QueueUrl"]
definition = {
    "Comment": "sfn-callbacks try.sh: one Task that waits for a decision",
    "StartAt": "WaitForDecision",
    "States": {"WaitForDecision": {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        # moto answers SendTaskHeartbeat with InvalidToken for a Task without
        # HeartbeatSeconds (Step Functions does not), and the link's page
        # probes the task with a heartbeat: it would say "already answered".
        # moto ends the Task if no heartbeat comes in time, so it outlasts
        # the wait for a decision.
        "HeartbeatSeconds": int(os.environ["WAIT_SECS"]) + 300,
        "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": True,
    }},
}
machine = sfn.create_state_machine(
    name="try", roleArn="arn:aws:iam::123456789012:role/try", definition=json.dumps(definition)
)["stateMachineArn"]
execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]

token = None
deadline = time.monotonic() + 30
while token is None:
    if time.monotonic() > deadline:
        sys.exit("try.sh: the execution sent no task token in 30 s")
    for message in sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1
    ).get("Messages", []):
        token = json.loads(message["Body"])["token"]
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

what = (
    "This link was made by scripts/try.sh. A Step Functions execution on a local "
    "moto_server is waiting for this decision: approving sends SendTaskSuccess with "
    '{"approved": true}, rejecting sends SendTaskFailure. Nothing here reaches AWS.'
)
request = {
    "token": token,
    "actions": [
        {"name": "approve", "type": "success", "output": {"approved": True},
         "label": "Approve the try.sh demo", "description": what},
        {"name": "reject", "type": "failure", "error": "Rejected", "cause": "rejected in the try.sh demo",
         "label": "Reject the try.sh demo", "description": what},
    ],
}
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
reply = http.open(urllib.request.Request(
    os.environ["SERVE"] + "/urls",
    data=json.dumps(request).encode(),
    headers={"Content-Type": "application/json"},
), timeout=30)
urls = json.load(reply)["urls"]
print(execution)
print(urls["approve"])
print(urls["reject"])
PY
{ read -r execution && read -r approve && read -r reject; } <"$work/links" || die "no links were made"

cat <<EOF

Approve: $approve
Reject:  $reject

EOF

if [ -n "$click" ]; then
  link=$approve
  [ "$click" = reject ] && link=$reject
  say "== pressing $click (TRY_CLICK=$click)"
  code=$(curl -sS --noproxy '*' --max-time 30 -o "$work/click" -w '%{http_code}' \
    -X POST -H 'Accept: application/json' "$link")
  echo "$click answered HTTP $code: $(cat "$work/click")"
  [ "$code" = 200 ] || die "pressing $click did not work"
else
  echo "Open one in a browser and press the button (waiting up to $wait_secs s; Ctrl-C stops)."
fi

# --- the outcome ----------------------------------------------------------------
# With TRY_CLICK the outcome is known, and anything else fails the script.
expected=
case $click in
  approve) expected=SUCCEEDED ;;
  reject) expected=FAILED ;;
esac
# In the background, so that a signal to this script stops it at once.
"${clean_env[@]}" "${py_env[@]}" EXECUTION="$execution" WAIT_SECS="$wait_secs" EXPECTED="$expected" "$py" - <<'PY' &
import signal
signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: stop, without a traceback
import json, os, sys, time
import boto3
from botocore.config import Config

sfn = boto3.client(
    "stepfunctions", config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
)
deadline = time.monotonic() + int(os.environ["WAIT_SECS"])
while True:
    out = sfn.describe_execution(executionArn=os.environ["EXECUTION"])
    if out["status"] != "RUNNING":
        break
    if time.monotonic() > deadline:
        print(f"try.sh: no decision in {os.environ['WAIT_SECS']} s: the execution is still RUNNING", file=sys.stderr)
        sys.exit(3)
    time.sleep(1)

print(f"execution: {out['status']}")
if "output" in out:
    print(f"output: {json.dumps(json.loads(out['output']))}")
if "error" in out:
    print(f"error: {out['error']}")
if "cause" in out:
    print(f"cause: {out['cause']}")
elif out["status"] == "FAILED":
    print("cause: (moto does not keep a failure's cause; Step Functions does)")
expected = os.environ["EXPECTED"]
if expected and out["status"] != expected:
    sys.exit(f"try.sh: the execution is {out['status']}, not {expected}")
PY
wait_pid=$!
outcome=0
wait "$wait_pid" || outcome=$?
wait_pid=
# No decision in time is no fault of the servers: their logs stay unsaid.
if [ "$outcome" -ne 0 ]; then
  [ "$outcome" -ne 3 ] || show_logs=
  exit "$outcome"
fi
