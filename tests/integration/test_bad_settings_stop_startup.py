"""A bad setting stops every entry point before anything starts, as an operator meets it:
the local host (`make run`) and `python -m shared.migrate` print one line per bad variable
on stderr and exit 2 without a traceback; importing the function app raises one
``SettingsError`` with the same text (the Functions host logs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = "; nothing was started (README.md, Configuration, lists them all):"


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "SQL_URL"}}
    environ.update({"LEAP_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_local_host_refuses_bad_values_and_starts_nothing(tmp_path: Path) -> None:
    run = _run(["-m", "shared.local"], tmp_path, HOLD_SECONDS="ten",
               RATE_HOLDS_PER_USER="abc", HOLD_RECORD_RETENTION_SECONDS="-5")
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"3 invalid settings{HEADER}",
        "  HOLD_SECONDS='ten': expected a whole number >= 1",
        "  HOLD_RECORD_RETENTION_SECONDS='-5': expected a whole number >= 1",
        "  RATE_HOLDS_PER_USER='abc': not of the form limit/seconds; expected limit/seconds, "
        "both positive, e.g. 30/60",
    ]
    assert run.stdout == ""  # no redis-server was started
    assert not (tmp_path / "data").exists()


def test_the_local_host_refuses_a_combination_that_cannot_work(tmp_path: Path) -> None:
    run = _run(["-m", "shared.local"], tmp_path, CATALOG_BACKEND="cosmos")
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"1 invalid setting{HEADER}",
        "  COSMOS_ENDPOINT is not set: required when CATALOG_BACKEND=cosmos"]


def test_importing_the_function_app_raises_one_settings_error(tmp_path: Path) -> None:
    run = _run(["-c", "import function_app"], tmp_path, HOLD_SECONDS="-5",
               BUS_BACKEND="servicebus", SERVICEBUS_CONNECTION="not a connection string")
    assert run.returncode == 1
    assert "Traceback" in run.stderr  # the worker's import fails; the host logs the error
    assert "During handling" not in run.stderr and "ValidationError" not in run.stderr
    tail = run.stderr.splitlines()[-3:]
    assert tail[0] == f"shared.settings.SettingsError: 2 invalid settings{HEADER}"
    assert tail[1] == "  SERVICEBUS_CONNECTION='<hidden, 23 characters>': no Endpoint=sb://... " \
        "in it; expected a connection string: Endpoint=sb://...;SharedAccessKeyName=...;" \
        "SharedAccessKey=..."
    assert tail[2] == "  HOLD_SECONDS='-5': expected a whole number >= 1"


def test_the_function_app_imports_with_its_local_settings(tmp_path: Path) -> None:
    import json

    values = json.loads((ROOT / "local.settings.json").read_text())["Values"]
    values.pop("LEAP_DATA_DIR")
    run = _run(["-c", "import function_app; print(function_app.settings.bus_backend)"],
               tmp_path, **values)
    assert (run.returncode, run.stdout.strip()) == (0, "servicebus"), run.stderr


def test_migrate_refuses_bad_values(tmp_path: Path) -> None:
    run = _run(["-m", "shared.migrate"], tmp_path, SQL_URL="ledger.sqlite",
               ARGON2_TIME_COST="0")
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"2 invalid settings{HEADER}",
        "  SQL_URL='ledger.sqlite': not a SQLAlchemy URL; expected a SQLAlchemy URL, "
        "e.g. sqlite:///path/ledger.sqlite",
        "  ARGON2_TIME_COST='0': expected a whole number >= 1",
    ]
    assert run.stdout == ""
    assert not (tmp_path / "data").exists()


def test_the_settings_check_command(tmp_path: Path) -> None:
    bad = _run(["-m", "shared.settings"], tmp_path, PORT="http")
    assert (bad.returncode, bad.stderr.splitlines()[1:]) == (
        2, ["  PORT='http': expected a whole number from 1 to 65535"])
    good = _run(["-m", "shared.settings"], tmp_path)
    assert good.returncode == 0 and good.stdout.startswith("settings are valid"), good.stderr
