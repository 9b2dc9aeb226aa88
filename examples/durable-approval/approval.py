"""A Lambda durable function that waits for a person's decision.

The wait_for_callback submitter asks sfn-callbacks (its CreateUrls
function, by direct invoke) for an approve and a reject link for the
callback ID, has it mail them to the approver, and returns; the function
then sleeps, at no cost, until the approver presses a button. Approve
resumes it with the action's output (and the approver's comment); reject
fails the callback with the action's error and cause, which raises here.
Nothing is stored: the links carry the callback ID, sealed.
"""

import json
import os

import boto3
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import CallbackError

# The CreateUrls function of the sfn-callbacks stack (its name or ARN).
CREATE_URLS_FUNCTION = os.environ.get("CREATE_URLS_FUNCTION", "sfn-callbacks-create-urls")

_lambda = None


def lambda_client():
    """One Lambda client per container, made when first needed."""
    global _lambda
    if _lambda is None:
        _lambda = boto3.client("lambda")
    return _lambda


def create_urls(request):
    """Invokes CreateUrls; its answer, or an error naming what it refused."""
    reply = lambda_client().invoke(
        FunctionName=CREATE_URLS_FUNCTION,
        Payload=json.dumps(request).encode(),
    )
    answer = json.loads(reply["Payload"].read() or b"null")
    if "FunctionError" in reply or not isinstance(answer, dict) or "urls" not in answer:
        raise RuntimeError(f"CreateUrls refused the request: {answer}")
    return answer


def ask(event):
    """The submitter: mail the approver two links for this callback."""

    def submit(callback_id, context):
        created = create_urls(
            {
                "callback_id": callback_id,
                "actions": [
                    {
                        "name": "approve",
                        "type": "success",
                        "label": "Approve",
                        "description": f"Order {event['order']} ships.",
                        "output": {"approved": True, "order": event["order"]},
                        "comment": {"max_length": 500},
                    },
                    {
                        "name": "reject",
                        "type": "failure",
                        "label": "Reject",
                        "error": "Rejected",
                        "cause": f"Order {event['order']} was rejected",
                    },
                ],
                "notify": {
                    "email": {
                        "to": event["approver"],
                        "subject": "Order {{ context.order }}: approve or reject?",
                    },
                    "context": event,
                },
            }
        )
        context.logger.info("asked for a decision", extra={"transaction_id": created["transaction_id"]})

    return submit


@durable_execution
def handler(event, context: DurableContext):
    """Waits up to a day for the decision, then branches on it."""
    config = WaitForCallbackConfig(timeout=Duration.from_days(1))
    try:
        decision = json.loads(context.wait_for_callback(ask(event), name="approval", config=config))
    except CallbackError as rejected:
        # Rejected (or timed out): the execution fails with the cause.
        context.logger.info("not approved", extra={"reason": rejected.message})
        raise
    shipped = context.step(lambda _: {"order": decision["order"], "shipped": True}, name="ship")
    return {"status": "approved", "decision": decision, "shipment": shipped}
