"""Azure Functions entry point (Python v2 programming model).

One function app holds the whole back end:
- ``http_app_func``: every HTTP route, served by the FastAPI app through AsgiFunctionApp;
- ``payments``: Service Bus trigger on queue ``payments`` -> ``finalize.handle``;
- ``payments_deadletter``: the queue's dead-letter queue -> ``finalize.handle_dead_letter``;
- ``reconcile``: timer trigger (schedule from the RECONCILE_SCHEDULE app setting).

The Service Bus triggers use the host's auto-completion: returning completes the message,
raising abandons it, so the queue redelivers it until its max delivery count and then
dead-letters it. The runtime is built on first use, so indexing needs no configuration.
"""

from __future__ import annotations

import logging
from functools import cache

import azure.functions as func

from shared import telemetry
from shared.api.app import create_app
from shared.models import PaymentRequest, now_ms
from shared.runtime import Runtime, build_runtime
from shared.settings import Settings

PAYMENTS_QUEUE = "payments"
SERVICEBUS_CONNECTION = "SERVICEBUS_CONNECTION"  # app setting prefix (or __fullyQualifiedNamespace)
RECONCILE_SCHEDULE = "%RECONCILE_SCHEDULE%"

log = logging.getLogger("leap.functions")


@cache
def runtime() -> Runtime:
    telemetry.configure()
    return build_runtime(Settings.from_env())


app = func.AsgiFunctionApp(app=create_app(runtime, settings=Settings.from_env()),
                           http_auth_level=func.AuthLevel.ANONYMOUS)


@app.function_name("payments")
@app.service_bus_queue_trigger(
    arg_name="msg", queue_name=PAYMENTS_QUEUE, connection=SERVICEBUS_CONNECTION)
async def payments(msg: func.ServiceBusMessage) -> None:
    request = PaymentRequest.from_json(msg.get_body())
    order = await runtime().finalizer.handle(request)
    log.info("payments: order %s is %s (delivery %s)", order.id, order.status,
             msg.delivery_count)


@app.function_name("payments_deadletter")
@app.service_bus_queue_trigger(
    arg_name="msg", queue_name=f"{PAYMENTS_QUEUE}/$DeadLetterQueue",
    connection=SERVICEBUS_CONNECTION)
async def payments_deadletter(msg: func.ServiceBusMessage) -> None:
    request = PaymentRequest.from_json(msg.get_body())
    order = await runtime().finalizer.handle_dead_letter(request)
    log.warning("payments dead-letter: order %s is %s (%s)", order.id, order.status,
                msg.dead_letter_reason)


@app.function_name("reconcile")
@app.timer_trigger(arg_name="timer", schedule=RECONCILE_SCHEDULE, run_on_startup=False,
                   use_monitor=True)
async def reconcile(timer: func.TimerRequest) -> None:
    if timer.past_due:
        log.warning("reconcile: running late (past due); one pass catches up on everything")
    report = await runtime().reconciler.run_once(now_ms())
    log.info("reconcile: %s", report)
    finished = await runtime().refunds.resume()  # organiser refunds a crash left unfinished
    if finished:
        log.info("reconcile: finished %d refunds", finished)
    if jobs := await runtime().cancellations.resume():  # whole-event refund jobs
        log.info("reconcile: finished %d event cancellations", jobs)
