"""function_app.py indexes into the functions and bindings the Functions host expects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _functions() -> dict[str, list[dict[str, Any]]]:
    import function_app

    return {str(f.get_function_name()): [json.loads(b) for b in f.get_raw_bindings()]
            for f in function_app.app.get_functions()}


def test_indexes_http_two_service_bus_triggers_and_two_timers() -> None:
    fns = _functions()
    assert set(fns) == {"http_app_func", "payments", "payments_deadletter", "reconcile",
                        "outbox_relay", "send_emails"}

    (http, _out) = fns["http_app_func"]
    assert http["type"] == "httpTrigger" and http["authLevel"] == "ANONYMOUS"
    assert http["route"] == "/{*route}"
    assert {"GET", "POST", "DELETE", "PATCH"} <= set(http["methods"])

    (payments,) = fns["payments"]
    assert payments["type"] == "serviceBusTrigger"
    assert payments["queueName"] == "payments"
    assert payments["connection"] == "SERVICEBUS_CONNECTION"
    # Batches, each message settled on its own through ServiceBusMessageActions.
    assert payments["cardinality"].lower() == "many"
    assert payments["autoCompleteMessages"] is False

    (dead,) = fns["payments_deadletter"]
    assert dead["type"] == "serviceBusTrigger"
    assert dead["queueName"] == "payments/$DeadLetterQueue"
    assert dead["connection"] == "SERVICEBUS_CONNECTION"
    assert dead["cardinality"].lower() == "many"
    assert dead["autoCompleteMessages"] is False

    (timer,) = fns["reconcile"]
    assert timer["type"] == "timerTrigger"
    assert timer["schedule"] == "%RECONCILE_SCHEDULE%"
    assert timer["runOnStartup"] is False

    (relay,) = fns["outbox_relay"]
    assert relay["type"] == "timerTrigger"
    assert relay["schedule"] == "%OUTBOX_RELAY_SCHEDULE%"
    (mail,) = fns["send_emails"]
    assert mail["type"] == "timerTrigger"
    assert mail["schedule"] == "%MAIL_SCHEDULE%"


def test_settings_files_match_the_bindings() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == ""
    bus = host["extensions"]["serviceBus"]
    assert bus["autoCompleteMessages"] is False  # the functions settle each message
    assert bus["maxMessageBatchSize"] > 1 and bus["prefetchCount"] >= bus["maxMessageBatchSize"]
    assert host["extensionBundle"]["id"] == "Microsoft.Azure.Functions.ExtensionBundle"
    local = json.loads((ROOT / "local.settings.json").read_text())["Values"]
    assert local["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert "SERVICEBUS_CONNECTION" in local
    # NCRONTAB with seconds: six fields.
    assert len(local["RECONCILE_SCHEDULE"].split()) == 6
    assert len(local["OUTBOX_RELAY_SCHEDULE"].split()) == 6
    assert len(local["MAIL_SCHEDULE"].split()) == 6
    # Only emulator settings: no real account keys or passwords for Azure.
    assert "SharedAccessKey=SAS_KEY_VALUE" in local["SERVICEBUS_CONNECTION"]
    assert "UseDevelopmentEmulator=true" in local["SERVICEBUS_CONNECTION"]
