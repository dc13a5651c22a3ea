"""Azure Functions entry point (Python v2 programming model).

One function app holds the whole back end:
- ``http_app_func``: every HTTP route, served by the FastAPI app through AsgiFunctionApp;
- ``payments``: Service Bus trigger on queue ``payments``, in batches
  (``cardinality="many"``, batch size and prefetch in host.json) -> ``finalize.handle_batch``;
- ``payments_deadletter``: the queue's dead-letter queue -> ``finalize.handle_dead_letter``;
- ``reconcile``: timer trigger (schedule from the RECONCILE_SCHEDULE app setting);
- ``outbox_relay``: timer trigger (OUTBOX_RELAY_SCHEDULE, every few seconds) publishing the
  payment messages whose checkout died before its publish (``services/outbox.py``);
- ``send_emails``: timer trigger (MAIL_SCHEDULE) sending the ledger's email outbox.

The Service Bus triggers bind SDK types (``azurefunctions-extensions-bindings-servicebus``:
``ServiceBusReceivedMessage`` and ``ServiceBusMessageActions``) with auto-completion off,
and settle each message of a batch on its own outcome (``servicebus_settlement``): complete
when handled, abandon on a transient error (Service Bus redelivers it and, past the max
delivery count, dead-letters it), dead-letter an unreadable one at once. Settings are read
and validated at import, so a bad app setting stops the worker with one ``SettingsError``
naming each bad variable (the host logs it); the runtime is built on first use, so indexing
needs no reachable Redis or SQL.
"""

from __future__ import annotations

import logging
from functools import cache

import azure.functions as func
from azurefunctions.extensions.bindings import servicebus

from shared import gc_tuning, telemetry
from shared.adapters.servicebus_settlement import settle_batch
from shared.api.app import create_app
from shared.models import now_ms
from shared.runtime import Runtime, build_runtime
from shared.settings import Settings

PAYMENTS_QUEUE = "payments"
SERVICEBUS_CONNECTION = "SERVICEBUS_CONNECTION"  # app setting prefix (or __fullyQualifiedNamespace)
RECONCILE_SCHEDULE = "%RECONCILE_SCHEDULE%"
OUTBOX_RELAY_SCHEDULE = "%OUTBOX_RELAY_SCHEDULE%"
MAIL_SCHEDULE = "%MAIL_SCHEDULE%"

log = logging.getLogger("leap.functions")


settings = Settings.from_env()


@cache
def runtime() -> Runtime:
    telemetry.configure(settings)
    return build_runtime(settings)


app = func.AsgiFunctionApp(app=create_app(runtime, settings=settings),
                           http_auth_level=func.AuthLevel.ANONYMOUS)


@app.function_name("payments")
@app.service_bus_queue_trigger(
    arg_name="messages", queue_name=PAYMENTS_QUEUE, connection=SERVICEBUS_CONNECTION,
    cardinality=func.Cardinality.MANY, auto_complete_messages=False)
async def payments(messages: list[servicebus.ServiceBusReceivedMessage],
                   message_actions: servicebus.ServiceBusMessageActions) -> None:
    settled = await settle_batch(messages, message_actions, runtime().finalizer.handle_batch)
    log.info("payments: batch of %d settled: %s", len(messages), settled)


@app.function_name("payments_deadletter")
@app.service_bus_queue_trigger(
    arg_name="messages", queue_name=f"{PAYMENTS_QUEUE}/$DeadLetterQueue",
    connection=SERVICEBUS_CONNECTION, cardinality=func.Cardinality.MANY,
    auto_complete_messages=False)
async def payments_deadletter(messages: list[servicebus.ServiceBusReceivedMessage],
                              message_actions: servicebus.ServiceBusMessageActions) -> None:
    settled = await settle_batch(messages, message_actions,
                                 runtime().finalizer.handle_dead_letter_batch,
                                 dead_letter_unreadable=False)
    log.warning("payments dead-letter: batch of %d settled: %s", len(messages), settled)


@app.function_name("reconcile")
@app.timer_trigger(arg_name="timer", schedule=RECONCILE_SCHEDULE, run_on_startup=False,
                   use_monitor=True)
async def reconcile(timer: func.TimerRequest) -> None:
    if timer.past_due:
        log.warning("reconcile: running late (past due); one pass catches up on everything")
    try:
        report = await runtime().reconciler.run_once(now_ms())
        log.info("reconcile: %s", report)
    finally:  # a failing pass must not strand organiser refunds; its error still surfaces
        await _resume_refunds()


async def _resume_refunds() -> None:
    finished = await runtime().refunds.resume()  # organiser refunds a crash left unfinished
    if finished:
        log.info("reconcile: finished %d refunds", finished)
    if jobs := await runtime().cancellations.resume():  # whole-event refund jobs
        log.info("reconcile: finished %d event cancellations", jobs)


@app.function_name("outbox_relay")
@app.timer_trigger(arg_name="timer", schedule=OUTBOX_RELAY_SCHEDULE, run_on_startup=False,
                   use_monitor=False)
async def outbox_relay(timer: func.TimerRequest) -> None:
    # No schedule monitor: a missed tick is caught up by the next one seconds later.
    report = await runtime().outbox_relay.run_once(now_ms())
    if report.published or report.failed:
        log.warning("outbox relay: %s", report)


@app.function_name("send_emails")
@app.timer_trigger(arg_name="timer", schedule=MAIL_SCHEDULE, run_on_startup=False,
                   use_monitor=True)
async def send_emails(timer: func.TimerRequest) -> None:
    """Order confirmations from the outbox; a failed send stays there for the next pass."""
    sent = await runtime().emails.send_due(limit=100)
    if sent:
        log.info("send_emails: sent %d", sent)


# Last: the imports, the app and its functions stay out of the collector's way (gc_tuning).
gc_tuning.tune_for_serving()
