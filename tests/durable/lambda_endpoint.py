"""The Lambda API on loopback, for the durable-function tests.

dex-local-runner runs durable executions but not functions: it invokes them
through a Lambda Invoke endpoint, which this is. It runs the example's
handler in this process, answers the example's own invoke of CreateUrls by
passing the request to `serve` (as the CreateUrls function would answer
it), and passes every other Lambda call (the SDK's checkpoints, the
service's callbacks) on to the runner, counting the callback calls so a
test can tell what reached the durable API.

    python lambda_endpoint.py PORT RUNNER_URL SERVE_URL EXAMPLE_DIR

The runner, the SDK and boto3 need credentials and a region in the
environment (dummy ones do), and AWS_ENDPOINT_URL_LAMBDA pointing here.
"""

import json
import sys
import threading
import types
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, RUNNER, SERVE, EXAMPLE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CREATE_URLS = "sfn-callbacks-create-urls"
sys.path.insert(0, EXAMPLE)
from approval import handler  # noqa: E402

CALLBACKS = "/2025-12-01/durable-execution-callbacks/"
calls = []
lock = threading.Lock()


def forward(url, method, body, headers):
    """One HTTP request; its status, headers and body, whatever the status."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


class Endpoint(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/calls":
            with lock:
                self.answer(200, json.dumps(calls).encode())
        else:
            self.relay("GET", b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 4 and parts[0] == "2015-03-31" and parts[3] == "invocations":
            self.invoke(parts[2], body)
        else:
            self.relay("POST", body)

    def invoke(self, function, body):
        if function == CREATE_URLS:
            status, _, answer = forward(
                f"{SERVE}/urls", "POST", body, {"Content-Type": "application/json"}
            )
            errors = {} if status == 200 else {"X-Amz-Function-Error": "Unhandled"}
            self.answer(200, answer, errors)
            return
        context = types.SimpleNamespace(
            aws_request_id=str(uuid.uuid4()),
            function_name=function,
            get_remaining_time_in_millis=lambda: 900_000,
        )
        try:
            output, errors = handler(json.loads(body), context), {}
        except Exception as error:  # what Lambda reports as a function error
            output = {"errorType": type(error).__name__, "errorMessage": str(error)}
            errors = {"X-Amz-Function-Error": "Unhandled"}
        self.answer(200, json.dumps(output).encode(), errors)

    def relay(self, method, body):
        if self.path.startswith(CALLBACKS):
            with lock:
                calls.append(self.path.rsplit("/", 1)[-1])
        keep = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        status, headers, answer = forward(RUNNER + self.path, method, body or None, keep)
        self.answer(status, answer, {k: v for k, v in headers.items() if k.lower() == "x-amzn-errortype"})

    def answer(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        print("lambda-endpoint:", format % args, file=sys.stderr, flush=True)


ThreadingHTTPServer(("127.0.0.1", PORT), Endpoint).serve_forever()
