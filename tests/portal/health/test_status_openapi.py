"""/api/v2/openapi.json describes the Statuspage-shaped API, and the running views' answers validate against it."""

from http import HTTPStatus

import pytest

from tests.portal.health.test_status_api import (  # noqa: F401 — `page` is a fixture: an incident, a maintenance
    COMPONENT_STATUSES, IMPACTS, INCIDENT_STATUSES, INDICATORS, MAINTENANCE_STATUSES, page,
)

TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict, "null": type(None)}


def problems(doc: dict, schema: dict, value, where: str = "$") -> list[str]:
    """What in `value` breaks `schema` (the subset of JSON Schema the document uses: $ref, anyOf, type, enum,
    const, required, properties, additionalProperties, items); an empty list when it conforms."""
    if "$ref" in schema:
        return problems(doc, doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], value, where)
    if "anyOf" in schema:
        tries = [problems(doc, option, value, where) for option in schema["anyOf"]]
        return [] if any(not found for found in tries) else min(tries, key=len)
    found = []
    expected = TYPES.get(schema.get("type", ""))
    if expected and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
        return [f"{where}: {value!r} is not {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: {value!r} is not {schema['const']!r}")
    if isinstance(value, dict):
        found += [f"{where}: {name} is missing" for name in schema.get("required", []) if name not in value]
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            found += [f"{where}: {name} is not documented" for name in value if name not in properties]
        for name, item in value.items():
            if name in properties:
                found += problems(doc, properties[name], item, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(doc, schema["items"], item, f"{where}[{index}]")
    return found


def _enum(doc: dict, model: str, field: str) -> set[str]:
    schema = doc["components"]["schemas"][model]["properties"][field]
    options = schema.get("anyOf", [schema])
    return {value for option in options for value in option.get("enum", [option.get("const")])}


def test_the_document_names_statuspages_enumerations(client):
    response = client.get("/api/v2/openapi.json")
    assert response.status_code == HTTPStatus.OK
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) >= {
        "/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json", "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances.json",
    }
    assert _enum(doc, "Component", "status") == COMPONENT_STATUSES
    assert _enum(doc, "Status", "indicator") == INDICATORS
    assert _enum(doc, "Incident", "impact") == IMPACTS
    assert _enum(doc, "IncidentUpdate", "status") == INCIDENT_STATUSES | MAINTENANCE_STATUSES
    assert _enum(doc, "ScheduledMaintenance", "status") == MAINTENANCE_STATUSES


def test_the_views_answer_what_the_document_says(client, page):  # noqa: F811
    doc = client.get("/api/v2/openapi.json").json()
    checked = 0
    for path, operation in doc["paths"].items():
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK, path
        schema = operation["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert problems(doc, schema, response.json()) == [], path
        checked += 1
    assert checked == 8
    summary = client.get("/api/v2/summary.json").json()
    assert summary["incidents"] and summary["scheduled_maintenances"] and summary["components"]


def test_a_drifted_answer_is_caught(client, page):  # noqa: F811
    doc = client.get("/api/v2/openapi.json").json()
    schema = doc["paths"]["/api/v2/summary.json"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    summary = client.get("/api/v2/summary.json").json()
    summary["status"]["indicator"] = "amber"
    summary["components"][0]["state"] = summary["components"][0].pop("status")
    found = problems(doc, schema, summary)
    assert "$.status.indicator: 'amber' is not one of ['none', 'minor', 'major', 'critical']" in found
    assert "$.components[0]: status is missing" in found and "$.components[0]: state is not documented" in found
