"""An incident sets the status of the components it affects (Statuspage's affected components), and the banner
says what the components under it say."""

from http import HTTPStatus

import pytest
from django.test import Client

from portal.errors import Refusal
from portal.health import selectors, services
from portal.health.models import Component, ComponentStatusChange, Incident

pytestmark = pytest.mark.django_db


def test_an_incident_sets_its_components_status_until_it_is_resolved(staff, rpc_component, db_component):
    """Was: an incident could not move its components, so a red banner stood over components all 'Operational'."""
    incident = services.incident_create(
        user=staff, name="RPC down", impact="major", status="investigating", body="Calls time out.",
        component_codes=[rpc_component.code, db_component.code],
        component_statuses={rpc_component.code: "partial_outage", db_component.code: ""})
    rpc_component.refresh_from_db()
    db_component.refresh_from_db()
    assert (rpc_component.status, db_component.status) == ("partial_outage", "operational")
    assert ComponentStatusChange.objects.filter(component=rpc_component, status="partial_outage").exists()
    assert selectors.overall().headline == "Partial System Outage"
    first = incident.updates.get()
    assert {a["code"]: (a["old_status"], a["new_status"]) for a in first.affected_components} == {
        rpc_component.code: ("operational", "partial_outage"), db_component.code: ("operational", "operational")}
    page = Client().get("/status/").content.decode()
    assert "Partial System Outage" in page and "Partial outage" in page

    services.incident_update_post(user=staff, incident=incident, status="monitoring", body="A fix is out.",
                                  component_statuses={rpc_component.code: "degraded_performance"})
    rpc_component.refresh_from_db()
    assert rpc_component.status == "degraded_performance"

    services.incident_update_post(user=staff, incident=incident, status="resolved", body="All good.")
    rpc_component.refresh_from_db()
    assert rpc_component.status == "operational"  # its checks say so, and the closed incident says nothing more
    assert selectors.overall().headline == "All Systems Operational"


def test_an_open_incident_over_operational_components_is_named_as_such(staff, rpc_component):
    services.incident_create(user=staff, name="Slow votes", impact="major", status="investigating",
                             body="Looking.", component_codes=[rpc_component.code])
    overall = selectors.overall()
    assert overall.indicator == "major"  # the Statuspage API keeps its indicator
    assert (overall.headline, overall.tone) == ("All components operational · An incident is open", "warn")


def test_a_status_that_is_not_statuspages_is_refused_and_nothing_is_written(staff, rpc_component):
    with pytest.raises(Refusal) as refused:
        services.incident_create(user=staff, name="Odd", impact="minor", status="investigating", body="x",
                                 component_codes=[rpc_component.code],
                                 component_statuses={rpc_component.code: "on_fire"})
    assert str(refused.value) == ("A component's status is one of: operational, degraded performance, partial outage, "
                                  "major outage.")
    assert not Incident.objects.exists()
    assert Component.objects.get(pk=rpc_component.pk).status == "operational"


def test_the_staff_form_sets_a_components_status(staff, rpc_component):
    client = Client()
    client.force_login(staff)
    response = client.post("/status/incidents/new/", {
        "name": "RPC down", "impact": "major", "status": "investigating", "body": "Timeouts.",
        "components": [rpc_component.code], f"status-{rpc_component.code}": "major_outage"})
    assert response.status_code == HTTPStatus.FOUND
    assert Component.objects.get(pk=rpc_component.pk).status == "major_outage"
    incident = Incident.objects.get()
    page = client.get(f"/status/incidents/{incident.code}/").content.decode()
    assert '<option value="major_outage" selected>' in page
