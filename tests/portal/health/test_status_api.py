"""/api/v2/*.json validated against Statuspage's field names and values (CONTRACT.md), and the Atom feed."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal.health import services
from portal.health.models import Component

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
INDICATORS = {"none", "minor", "major", "critical"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
PAGE_FIELDS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_FIELDS = {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
                    "start_date", "group_id", "page_id", "group", "only_show_if_degraded"}
INCIDENT_FIELDS = {"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
                   "shortlink", "started_at", "page_id", "incident_updates", "components"}
UPDATE_FIELDS = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components",
                 "deliver_notifications", "custom_tweet", "tweet_id"}


@pytest.fixture
def page(staff, rpc_component, db_component):
    incident = services.incident_create(user=staff, name="Slow RPC", impact="minor", status="investigating",
                                        body="Reads are slow.", component_codes=[rpc_component.code])
    services.incident_update_post(user=staff, incident=incident, status="identified", body="A slow *disk*.")
    resolved = services.incident_create(user=staff, name="Old outage", impact="major", status="investigating",
                                        body="Down.", component_codes=[db_component.code])
    services.incident_update_post(user=staff, incident=resolved, status="resolved", body="Back.")
    now = timezone.now()
    services.maintenance_schedule(user=staff, name="Node upgrade", body="New client version.",
                                  component_codes=[rpc_component.code], scheduled_for=now + timedelta(hours=1),
                                  scheduled_until=now + timedelta(hours=2))
    services.incident_create(user=None, name="Draft", impact="major", status="investigating", body="Seen by sampler.",
                             component_codes=[], draft=True)
    return incident


def check_page(body):
    assert set(body["page"]) == PAGE_FIELDS
    assert body["page"]["time_zone"] == "Etc/UTC" and ISO.match(body["page"]["updated_at"])
    assert body["page"]["url"].endswith("/status/")


def check_component(c):
    expected = COMPONENT_FIELDS | ({"components"} if c["group"] else set())
    assert set(c) == expected
    assert c["status"] in COMPONENT_STATUSES and isinstance(c["position"], int) and ISO.match(c["created_at"])


def check_incident(i, statuses, *, maintenance=False):
    assert set(i) == INCIDENT_FIELDS | ({"scheduled_for", "scheduled_until"} if maintenance else set())
    assert i["status"] in statuses and i["impact"] in IMPACTS
    assert i["shortlink"].startswith("http://testserver/status/incidents/")
    for update in i["incident_updates"]:
        assert set(update) == UPDATE_FIELDS and update["status"] in statuses and update["incident_id"] == i["id"]
        assert ISO.match(update["display_at"])
    for component in i["components"]:
        check_component(component)


@pytest.mark.django_db
def test_summary_json(client, page):
    response = client.get("/api/v2/summary.json")
    assert response.status_code == HTTPStatus.OK and response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    check_page(body)
    for component in body["components"]:
        check_component(component)
    group = next(c for c in body["components"] if c["group"])
    assert group["name"] == "Blockchain" and group["components"] == [
        c["id"] for c in body["components"] if c["group_id"] == group["id"]]
    assert [i["name"] for i in body["incidents"]] == ["Slow RPC"]  # unresolved only, no drafts
    for incident in body["incidents"]:
        check_incident(incident, INCIDENT_STATUSES)
    assert [u["status"] for u in body["incidents"][0]["incident_updates"]] == ["identified", "investigating"]
    [maintenance] = body["scheduled_maintenances"]
    check_incident(maintenance, MAINTENANCE_STATUSES, maintenance=True)
    assert maintenance["status"] == "scheduled" and maintenance["impact"] == "maintenance"
    assert body["status"] == {"indicator": "minor", "description": "Minor Service Outage"}


@pytest.mark.django_db
def test_summary_json_reads_a_fixed_number_of_queries(client, page, staff, group, django_assert_num_queries):
    # The status version (1); then, built: components; unresolved incidents and upcoming maintenance, each with
    # updates and components (3 + 3); active maintenance (none, so nothing to prefetch); the newest change of
    # components and of incidents (page.updated_at).
    with django_assert_num_queries(11):
        assert client.get("/api/v2/summary.json").status_code == HTTPStatus.OK
    with django_assert_num_queries(1):  # the same version: served from the cache
        assert client.get("/api/v2/summary.json").status_code == HTTPStatus.OK
    Component.objects.create(slug="extra", name="Extra", group=group, position=3)
    more = services.incident_create(user=staff, name="Extra down", impact="major", status="investigating",
                                    body="Down.", component_codes=list(Component.objects.values_list("code", flat=True)))
    services.incident_update_post(user=staff, incident=more, status="identified", body="Found.")
    with django_assert_num_queries(11):  # more components, incidents and updates read no more queries
        body = client.get("/api/v2/summary.json").json()
    assert len(body["incidents"]) == 2 and len(body["components"]) == 4


@pytest.mark.django_db
def test_summary_json_shows_each_change_at_once(client, page, staff, group, rpc_component):
    first = client.get("/api/v2/summary.json").json()
    assert [i["name"] for i in first["incidents"]] == ["Slow RPC"]
    services.incident_create(user=staff, name="Database down", impact="major", status="investigating", body="Down.",
                             component_codes=[rpc_component.code])
    assert [i["name"] for i in client.get("/api/v2/summary.json").json()["incidents"]] == ["Database down", "Slow RPC"]
    services.incident_update_post(user=staff, incident=page, status="monitoring", body="A fix is out.")
    slow = next(i for i in client.get("/api/v2/summary.json").json()["incidents"] if i["name"] == "Slow RPC")
    assert slow["status"] == "monitoring" and slow["incident_updates"][0]["body"] == "A fix is out."
    rpc_component.status = "major_outage"
    rpc_component.save()
    body = client.get("/api/v2/summary.json").json()
    assert next(c for c in body["components"] if c["name"] == "Ethereum RPC")["status"] == "major_outage"
    group.name = "Chain"
    group.save()
    assert "Chain" in [c["name"] for c in client.get("/api/v2/summary.json").json()["components"]]


@pytest.mark.django_db
def test_summary_json_is_kept_in_the_process(client, page, staff, rpc_component, django_assert_num_queries):
    first = client.get("/api/v2/summary.json").content
    cache.clear()  # the shared copy is gone: this process's own copy answers, without a round trip to the cache
    with django_assert_num_queries(1):  # the status version only
        again = client.get("/api/v2/summary.json")
    assert again.content == first and again["Access-Control-Allow-Origin"] == "*"
    services.incident_create(user=staff, name="Database down", impact="major", status="investigating", body="Down.",
                             component_codes=[rpc_component.code])
    assert "Database down" in [i["name"] for i in client.get("/api/v2/summary.json").json()["incidents"]]


@pytest.mark.django_db
def test_summary_json_links_to_the_host_asked(client, page, settings):
    settings.ALLOWED_HOSTS = ["testserver", "status.example.org"]
    assert client.get("/api/v2/summary.json").json()["page"]["url"] == "http://testserver/status/"
    other = client.get("/api/v2/summary.json", HTTP_HOST="status.example.org").json()
    assert other["page"]["url"] == "http://status.example.org/status/"
    assert other["incidents"][0]["shortlink"].startswith("http://status.example.org/")


@pytest.mark.django_db
def test_summary_json_is_served_when_the_cache_is_down(client, page, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 1}}}
    for _ in range(2):
        response = client.get("/api/v2/summary.json")
        assert response.status_code == HTTPStatus.OK
        assert [i["name"] for i in response.json()["incidents"]] == ["Slow RPC"]


@pytest.mark.django_db
def test_status_and_components_json(client, page):
    status = client.get("/api/v2/status.json").json()
    assert set(status) == {"page", "status"} and status["status"]["indicator"] in INDICATORS
    components = client.get("/api/v2/components.json").json()
    assert set(components) == {"page", "components"}
    assert [c["name"] for c in components["components"]] == ["Database", "Blockchain", "Ethereum RPC"]
    assert [c["position"] for c in components["components"]] == [1, 2, 3]


@pytest.mark.django_db
def test_incidents_json(client, page):
    body = client.get("/api/v2/incidents.json").json()
    assert set(body) == {"page", "incidents"}
    assert [i["name"] for i in body["incidents"]] == ["Old outage", "Slow RPC"]
    for incident in body["incidents"]:
        check_incident(incident, INCIDENT_STATUSES)
    old = body["incidents"][0]
    assert old["status"] == "resolved" and ISO.match(old["resolved_at"])
    unresolved = client.get("/api/v2/incidents/unresolved.json").json()
    assert [i["name"] for i in unresolved["incidents"]] == ["Slow RPC"]


@pytest.mark.django_db
def test_scheduled_maintenances_json(client, page):
    body = client.get("/api/v2/scheduled-maintenances.json").json()
    assert set(body) == {"page", "scheduled_maintenances"}
    for item in body["scheduled_maintenances"]:
        check_incident(item, MAINTENANCE_STATUSES, maintenance=True)
    assert len(client.get("/api/v2/scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"]) == 1
    assert client.get("/api/v2/scheduled-maintenances/active.json").json()["scheduled_maintenances"] == []


@pytest.mark.django_db
def test_empty_page_is_all_operational(client):
    body = client.get("/api/v2/summary.json").json()
    assert body["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert body["components"] == body["incidents"] == body["scheduled_maintenances"] == []
    assert body["page"]["updated_at"] is None


@pytest.mark.django_db
def test_unknown_endpoint_and_wrong_method_answer_json(client):
    response = client.get("/api/v2/pages.json")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "There is no such status API endpoint; see /api/v2/summary.json."}
    refused = client.post("/api/v2/summary.json")
    assert refused.status_code == HTTPStatus.METHOD_NOT_ALLOWED and refused["Allow"] == "GET, HEAD"
    assert refused.json() == {"error": "The status API is read-only; use GET."}


@pytest.mark.django_db
def test_atom_feed_parses(client, page):
    response = client.get("/status/history.atom")
    assert response.status_code == HTTPStatus.OK and response["Content-Type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(response.content)
    entries = root.findall("a:entry", ns)
    titles = [e.find("a:title", ns).text for e in entries]
    assert "Slow RPC (identified)" in titles and "Old outage (resolved)" in titles and "Node upgrade (scheduled)" in titles
    assert not any(t.startswith("Draft") for t in titles)
    slow = entries[titles.index("Slow RPC (identified)")]
    assert "A slow <em>disk</em>." in slow.find("a:summary", ns).text  # markdown, rendered as on the page
    assert slow.find("a:link", ns).get("href").startswith("http://testserver/status/incidents/")
