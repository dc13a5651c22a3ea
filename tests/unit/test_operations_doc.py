"""Every alert in infra/alerts.bicep points to a runbook section of docs/operations.md that
exists, and the alerts watch exactly the telemetry names the app emits."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#{2,4} (.+)$", markdown, re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-") for h in headings}


def test_every_alert_links_to_an_existing_runbook_section() -> None:
    bicep = (ROOT / "infra" / "alerts.bicep").read_text()
    runbooks = re.findall(r"docs/operations\.md#([a-z0-9-]+)", bicep)
    assert len(runbooks) == 6  # redis, 5xx, finalize, outbox, dead letters, health check
    missing = set(runbooks) - _anchors((ROOT / "docs" / "operations.md").read_text())
    assert not missing, f"docs/operations.md lacks sections {sorted(missing)}"


def test_alerts_use_the_agreed_telemetry_names() -> None:
    bicep = (ROOT / "infra" / "alerts.bicep").read_text()
    for name in ('"leap.breaker.trips"', 'customDimensions["dependency"]) == "redis"',
                 '"leap.holds.degraded"', 'name == "finalize"', "/api/health/ready",
                 "'DeadletteredMessages'"):
        assert name in bicep, name
    telemetry = (ROOT / "shared" / "telemetry.py").read_text()
    assert '"leap.finalize.duration"' in telemetry
    assert '"finalize"' in (ROOT / "shared" / "services" / "finalize.py").read_text()
