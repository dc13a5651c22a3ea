"""infra/ for one region and for two: which resources each parameter set deploys, zones, backups,
and the second region's app against the first.

NOT a compilation: no Bicep compiler is published in the package registries this project
installs from, so nothing here runs ``bicep build`` or what-if, and nothing was deployed. The
templates are parsed with pycep (the Bicep parser checkov uses) and the tests check their
structure: the deployment parameters file is rendered as azd renders it for each parameter set,
and every resource of the second region must sit behind the one guard ``multiRegion``
(``!empty(secondaryLocation)``), so the resources a parameter set includes follow from whether
that parameter is empty. Property values are not evaluated; the tests check which expression
each property is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
GUARD = "multiRegion"


@cache
def parse(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], BicepParser().parse(text=(INFRA / name).read_text()))


def body(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's declared object, under any loop or condition wrapper."""
    config: dict[str, Any] = resource["config"]
    while "loop_type" in config or ("condition" in config and "config" in config):
        config = config["config"]
    return config


def condition(declaration: Mapping[str, Any]) -> Any:
    config = declaration["config"]
    return config.get("condition") if isinstance(config, dict) else None


def conditional(expr: Any) -> dict[str, Any]:
    assert isinstance(expr, dict) and expr.get("operator", {}).get("type") == "conditional", expr
    operands: dict[str, Any] = expr["operator"]["operands"]
    return operands


def mentions(tree: Any, name: str) -> bool:
    return name in json.dumps(tree)


def render_parameters(env: Mapping[str, str]) -> dict[str, str]:
    """main.parameters.json with azd's substitution: ${VAR} and ${VAR=default}."""
    raw = (INFRA / "main.parameters.json").read_text()

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        return env.get(name, default if default is not None else "")

    rendered = json.loads(re.sub(r"\$\{(\w+)(=([^}]*))?\}", substitute, raw))
    return {k: v["value"] for k, v in rendered["parameters"].items()}


def deployed_types(secondary_location: str) -> list[str]:
    """Resource types the deployment includes for this ``secondaryLocation``: everything of
    resources.bicep and its modules, except what only the guarded module declares."""
    resources = parse("resources.bicep")
    types = [r["type"] for r in resources["resources"].values() if not r.get("existing")]
    for module in resources["modules"].values():
        guard = condition(module)
        assert guard in (None, GUARD), f"only {GUARD} may guard a module, found {guard!r}"
        if guard == GUARD and not secondary_location:
            continue
        path = module["detail"]["path"]
        types += [r["type"] for r in parse(path)["resources"].values()]
    return sorted(types)


ENV = {"AZURE_ENV_NAME": "leap-test", "AZURE_LOCATION": "westeurope",
       "AZURE_PRINCIPAL_ID": "00000000-0000-0000-0000-000000000001"}


def test_the_parameters_render_for_one_and_for_two_regions() -> None:
    one = render_parameters(ENV)
    two = render_parameters({**ENV, "AZURE_SECONDARY_LOCATION": "northeurope"})
    assert one["secondaryLocation"] == "" and two["secondaryLocation"] == "northeurope"
    assert one["location"] == two["location"] == "westeurope"
    main = parse("main.bicep")
    assert set(one) <= set(main["parameters"]), "the parameters file sets an undeclared parameter"
    assert main["parameters"]["secondaryLocation"]["default"] == ""  # off by default
    passed = body(main["modules"]["resources"])["params"]
    for name in ("secondaryLocation", "zoneRedundant", "serviceBusSku", "redisSku",
                 "sqlPitrDays", "sqlLongTermRetention"):
        assert passed[name] == name, f"main.bicep does not pass {name} through"
    guard = parse("resources.bicep")["variables"][GUARD]["value"]
    assert guard == {"operator": {"type": "not", "operands": {"bool_value": {"function": {
        "type": "empty", "parameters": {"item_to_test": "secondaryLocation"}}}}}}


SECOND_REGION = sorted([
    "Microsoft.Sql/servers", "Microsoft.Sql/servers/firewallRules",
    "Microsoft.Sql/servers/securityAlertPolicies", "Microsoft.Sql/servers/auditingSettings",
    "Microsoft.Sql/servers/failoverGroups",
    "Microsoft.ServiceBus/namespaces", "Microsoft.ServiceBus/namespaces/disasterRecoveryConfigs",
    "Microsoft.Authorization/roleAssignments", "Microsoft.Authorization/roleAssignments",
    "Microsoft.Cache/redisEnterprise", "Microsoft.Cache/redisEnterprise/databases",
    "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments",
    "Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/blobServices",
    "Microsoft.Storage/storageAccounts/blobServices/containers",
    "Microsoft.Web/serverfarms", "Microsoft.Web/sites",
    "Microsoft.Cdn/profiles/originGroups/origins",
])


def test_one_region_includes_no_second_region_resource() -> None:
    one = deployed_types("")
    for kind in ("Microsoft.Sql/servers/failoverGroups",
                 "Microsoft.ServiceBus/namespaces/disasterRecoveryConfigs"):
        assert kind not in one
    assert one.count("Microsoft.Sql/servers") == 1
    assert one.count("Microsoft.Web/sites") == 1
    assert one.count("Microsoft.Cache/redisEnterprise") == 1
    assert one.count("Microsoft.Cdn/profiles/originGroups/origins") == 2  # api + web
    # Backups are not a second-region feature: both parameter sets include them.
    assert "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies" in one
    assert "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies" in one


def test_two_regions_add_the_partner_of_every_regional_service() -> None:
    one, two = deployed_types(""), deployed_types("northeurope")
    added = list(two)
    for kind in one:
        added.remove(kind)
    assert sorted(added) == SECOND_REGION


def test_nothing_outside_the_guard_is_placed_in_the_second_region() -> None:
    resources = parse("resources.bicep")
    for name, resource in resources["resources"].items():
        if mentions(body(resource), "secondaryLocation"):
            pytest.fail(f"{name} uses secondaryLocation directly; go through {GUARD}")
    # The one shared resource that spans regions: Cosmos DB's locations, chosen by the guard.
    assert body(resources["resources"]["cosmos"])["properties"]["locations"] == "cosmosLocations"
    locations = conditional(resources["variables"]["cosmosLocations"]["value"])
    assert locations["condition"] == GUARD
    assert [loc["locationName"] for loc in locations["true_value"]] == [
        "location", "secondaryLocation"]
    assert [loc["locationName"] for loc in locations["false_value"]] == ["location"]
    assert body(resources["resources"]["cosmos"])["properties"]["enableAutomaticFailover"] == GUARD
    module = resources["modules"]["secondary"]
    assert condition(module) == GUARD
    assert body(module)["params"]["location"] == "secondaryLocation"
    secondary = parse("modules/secondary-region.bicep")
    for name, resource in secondary["resources"].items():
        assert condition(resource) is None, f"{name}: the module's guard is the only one"


def test_the_app_connects_through_what_follows_a_failover() -> None:
    resources = parse("resources.bicep")
    settings = {s["name"]: s["value"] for s in
                body(resources["resources"]["func"])["properties"]["siteConfig"]["appSettings"]}
    assert settings["SQL_SERVER"] == "sqlHost"
    assert settings["SERVICEBUS_CONNECTION__fullyQualifiedNamespace"] == "busHost"
    for var in ("sqlHost", "busHost"):
        assert conditional(resources["variables"][var]["value"])["condition"] == GUARD
    assert mentions(resources["variables"]["sqlHost"], "sqlListener")
    assert mentions(resources["variables"]["busHost"], "busAlias")


def test_zones_are_on_by_default_wherever_the_tier_offers_them() -> None:
    main, resources = parse("main.bicep"), parse("resources.bicep")
    assert main["parameters"]["zoneRedundant"]["default"] is True
    r = {name: body(res) for name, res in resources["resources"].items()}
    assert r["ledger"]["properties"]["zoneRedundant"] == "zoneRedundant"
    assert r["plan"]["properties"]["zoneRedundant"] == "zoneRedundant"
    assert r["redis"]["properties"]["highAvailability"] == "Enabled"
    assert r["storage"]["sku"]["name"] == "Standard_ZRS"
    bus_zones = r["bus"]["properties"]["zoneRedundant"]
    assert mentions(bus_zones, "Premium") and mentions(bus_zones, "zoneRedundant")
    locations = conditional(resources["variables"]["cosmosLocations"]["value"])
    for loc in [*locations["true_value"], *locations["false_value"]]:
        assert loc["isZoneRedundant"] == "zoneRedundant"
    second = parse("modules/secondary-region.bicep")["resources"]
    s = {name: body(res) for name, res in second.items()}
    assert s["plan"]["properties"]["zoneRedundant"] == "zoneRedundant"
    assert s["bus"]["properties"]["zoneRedundant"] == "zoneRedundant"
    assert s["redis"]["properties"]["highAvailability"] == "Enabled"
    assert s["storage"]["sku"]["name"] == "Standard_ZRS"


def test_backups_of_the_ledger_catalog_and_redis() -> None:
    resources = parse("resources.bicep")
    r = {name: body(res) for name, res in resources["resources"].items()}
    assert r["cosmos"]["properties"]["backupPolicy"]["type"] == "Continuous"
    assert r["ledger"]["properties"]["requestedBackupStorageRedundancy"] == "Geo"
    # Redis: AOF every second in one region; two regions replace it by the geo-replica.
    persistence = conditional(r["redisDb"]["properties"]["persistence"])
    assert persistence["condition"] == GUARD
    assert persistence["false_value"] == {"aofEnabled": True, "aofFrequency": "1s"}
    assert conditional(r["redisDb"]["properties"]["geoReplication"])["condition"] == GUARD
    backups = resources["modules"]["ledgerBackups"]
    assert condition(backups) is None  # every deployment
    assert body(backups)["params"]["pitrDays"] == "sqlPitrDays"
    policies = {res["type"].rsplit("/", 1)[1]: body(res)
                for res in parse("modules/sql-backups.bicep")["resources"].values()}
    assert policies["backupShortTermRetentionPolicies"]["properties"]["retentionDays"] == "pitrDays"
    long_term = policies["backupLongTermRetentionPolicies"]["properties"]
    for period in ("weeklyRetention", "monthlyRetention", "yearlyRetention"):
        assert conditional(long_term[period])["condition"] == "longTermRetention"


def function_names() -> set[str]:
    source = (ROOT / "function_app.py").read_text()
    return set(re.findall(r'@app\.function_name\("(\w+)"\)', source))


def test_the_second_app_has_every_setting_of_the_first_and_waits_passive() -> None:
    first = {s["name"] for s in body(parse("resources.bicep")["resources"]["func"])
             ["properties"]["siteConfig"]["appSettings"]}
    second_app = body(parse("modules/secondary-region.bicep")["resources"]["func"])
    second = {s["name"]: s["value"] for s in second_app["properties"]["siteConfig"]["appSettings"]}
    assert first <= set(second), f"missing in the second region: {sorted(first - set(second))}"
    triggers = function_names()
    assert triggers == {"payments", "payments_deadletter", "reconcile", "outbox_relay",
                        "send_emails"}
    for name in triggers:  # passive: each non-HTTP trigger off until the runbook turns it on
        disabled = second[f"AzureWebJobs.{name}.Disabled"]
        assert disabled["function"]["type"] == "string" and mentions(disabled, "active")
    assert parse("modules/secondary-region.bicep")["parameters"]["active"]["default"] is False


def test_front_door_sends_api_traffic_to_the_healthy_origin_by_readiness() -> None:
    r = {name: body(res) for name, res in parse("resources.bicep")["resources"].items()}
    probe = r["apiOrigins"]["properties"]["healthProbeSettings"]
    assert probe["probePath"] == "/api/health/ready"
    assert '@router.get("/ready"' in (ROOT / "shared/api/routes/health.py").read_text()
    second = body(parse("modules/secondary-region.bicep")["resources"]["apiOrigin"])
    assert r["apiOrigin"]["properties"]["priority"] == 1
    assert second["properties"]["priority"] == 2
    assert mentions(second["name"], "apiOriginGroupName")
    module = body(parse("resources.bicep")["modules"]["secondary"])
    assert module["params"]["apiOriginGroupName"]["operator"]["operands"]["operand_1"] == \
        "apiOrigins"


def test_checkov_reads_every_template() -> None:
    """checkov counts a file it cannot parse as a parsing error and checks nothing in it;
    each template must parse (multi-line function arguments, for one, do not)."""
    for path in sorted(INFRA.rglob("*.bicep")):
        assert parse(str(path.relative_to(INFRA)))["resources"], path


def test_event_images_have_a_private_container_the_identity_can_write() -> None:
    resources = parse("resources.bicep")["resources"]
    container = body(resources["eventImages"])
    assert container["name"] == "event-images"
    assert container["properties"]["publicAccess"] == "None"
    assert mentions(resources["storageRoles"], "blobOwner")  # account scope: covers it
    settings = {s["name"]: s["value"] for s in body(resources["func"])["properties"]
                ["siteConfig"]["appSettings"]}
    assert mentions(settings["IMAGE_CONTAINER"], "eventImages")
    assert mentions(settings["IMAGE_ACCOUNT_URL"], "primaryEndpoints")
