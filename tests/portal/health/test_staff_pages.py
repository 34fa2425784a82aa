"""Staff pages: every bad input gets its status and sentence and writes nothing; followers are notified."""

import io
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from portal.health import demo, services
from portal.health.models import (
    Check, Component, ComponentStatusChange, Incident, IncidentFollower, IncidentUpdate, StatusFollower, Webhook,
    WebhookDelivery,
)
from portal.notifications.models import Notification


def good_incident(rpc_component, **overrides):
    return {"name": "RPC slow", "impact": "minor", "status": "investigating", "body": "Looking into it.",
            "components": [rpc_component.code], **overrides}


def assert_refused(response, status, sentence):
    assert response.status_code == status
    assert sentence in response.content.decode()


@pytest.mark.django_db
def test_staff_create_an_incident(client, staff, rpc_component):
    client.force_login(staff)
    response = client.post("/status/incidents/new/", good_incident(rpc_component))
    incident = Incident.objects.get()
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == f"/status/incidents/{incident.code}/"
    assert (incident.name, incident.impact, incident.status, incident.draft) == ("RPC slow", "minor", "investigating", False)
    assert list(incident.components.all()) == [rpc_component]
    assert incident.updates.get().body == "Looking into it."


@pytest.mark.django_db
def test_members_of_the_admins_group_are_staff(client, member, rpc_component):
    member.groups.add(Group.objects.create(name="admins"))
    client.force_login(member)
    assert client.post("/status/incidents/new/", good_incident(rpc_component)).status_code == HTTPStatus.FOUND


@pytest.mark.parametrize("overrides, sentence", [
    ({"name": ""}, "Please write the incident title."),
    ({"name": "   "}, "Please write the incident title."),
    ({"name": "x" * 161}, "The incident title is too long: at most 160 characters, you wrote 161."),
    ({"impact": "catastrophic"}, "Please choose the impact: none, minor, major or critical."),
    ({"impact": "maintenance"}, "Please choose the impact: none, minor, major or critical."),
    ({"status": "panicking"}, "Please choose a status: investigating, identified, monitoring, resolved or postmortem."),
    ({"status": "scheduled"}, "Please choose a status: investigating, identified, monitoring, resolved or postmortem."),
    ({"body": ""}, "Please write the first update."),
    ({"body": "y" * 5001}, "The first update is too long: at most 5000 characters, you wrote 5001."),
    ({"components": ["nosuchcode00"]}, "One of the chosen components does not exist (any more)."),
])
@pytest.mark.django_db
def test_bad_incident_input(client, staff, rpc_component, overrides, sentence):
    client.force_login(staff)
    response = client.post("/status/incidents/new/", good_incident(rpc_component, **overrides))
    assert_refused(response, HTTPStatus.BAD_REQUEST, sentence)
    assert not Incident.objects.exists() and not IncidentUpdate.objects.exists()


@pytest.mark.parametrize("who, sentence", [
    (None, "Please sign in with a staff wallet to manage the status page."),
    ("member", "Only staff can manage incidents and maintenance."),
])
@pytest.mark.django_db
def test_only_staff_may_create(client, member, rpc_component, who, sentence):
    if who:
        client.force_login(member)
    assert_refused(client.get("/status/incidents/new/"), HTTPStatus.FORBIDDEN, sentence)
    assert_refused(client.post("/status/incidents/new/", good_incident(rpc_component)), HTTPStatus.FORBIDDEN, sentence)
    assert_refused(client.post("/status/maintenance/new/", {}), HTTPStatus.FORBIDDEN, sentence)
    assert not Incident.objects.exists()


@pytest.fixture
def incident(staff, rpc_component):
    return services.incident_create(user=staff, name="RPC slow", impact="minor", status="investigating",
                                    body="Looking.", component_codes=[rpc_component.code])


@pytest.mark.django_db
def test_staff_post_updates_and_followers_are_notified(client, staff, member, incident, django_capture_on_commit_callbacks):
    IncidentFollower.objects.create(incident=incident, user=member)
    IncidentFollower.objects.create(incident=incident, user=staff)  # the one posting is not told of their own update
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/status/incidents/{incident.code}/updates/",
                               {"status": "monitoring", "body": "Fixed, watching."})
    assert response.status_code == HTTPStatus.FOUND
    incident.refresh_from_db()
    assert incident.status == "monitoring" and incident.monitoring_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/status/incidents/{incident.code}/updates/", {"status": "resolved", "body": "All good."})
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at is not None
    notes = Notification.objects.filter(recipient=member, verb="incident_update")
    assert notes.count() == 2
    assert notes.first().url == f"/status/incidents/{incident.code}/"
    assert "RPC slow: resolved — All good." in notes.first().text
    assert not Notification.objects.filter(recipient=staff).exists()


@pytest.mark.parametrize("data, status, sentence", [
    ({"status": "scheduled", "body": "x"}, HTTPStatus.BAD_REQUEST,
     "Please choose a status: investigating, identified, monitoring, resolved, postmortem."),
    ({"status": "", "body": "x"}, HTTPStatus.BAD_REQUEST, "Please choose a status"),
    ({"status": "identified", "body": ""}, HTTPStatus.BAD_REQUEST, "Please write the update."),
    ({"status": "identified", "body": "z" * 5001}, HTTPStatus.BAD_REQUEST, "The update is too long"),
])
@pytest.mark.django_db
def test_bad_update_input(client, staff, incident, data, status, sentence):
    client.force_login(staff)
    assert_refused(client.post(f"/status/incidents/{incident.code}/updates/", data), status, sentence)
    assert incident.updates.count() == 1
    assert Incident.objects.get().status == "investigating"


@pytest.mark.django_db
def test_a_member_cannot_post_updates(client, member, incident):
    client.force_login(member)
    response = client.post(f"/status/incidents/{incident.code}/updates/", {"status": "resolved", "body": "done"})
    assert_refused(response, HTTPStatus.FORBIDDEN, "Only staff can manage incidents and maintenance.")
    assert incident.updates.count() == 1


@pytest.mark.django_db
def test_unknown_incident_is_404(client, staff):
    client.force_login(staff)
    assert client.post("/status/incidents/nope/updates/", {"status": "resolved", "body": "x"}).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
def test_follow_and_unfollow(client, member, incident):
    assert_refused(client.post(f"/status/incidents/{incident.code}/follow/"), HTTPStatus.FORBIDDEN,
                   "Please sign in with your wallet to follow incidents.")
    assert not IncidentFollower.objects.exists()
    client.force_login(member)
    client.post(f"/status/incidents/{incident.code}/follow/", {"follow": "1"})
    assert IncidentFollower.objects.filter(user=member).count() == 1
    assert "Following ✓" in client.get(f"/status/incidents/{incident.code}/").content.decode()
    client.post(f"/status/incidents/{incident.code}/follow/", {"follow": "0"})
    assert not IncidentFollower.objects.exists()


@pytest.mark.django_db
def test_drafts_are_private_until_confirmed(client, staff, member, rpc_component):
    draft = services.incident_create(user=None, name="RPC down", impact="critical", status="investigating",
                                     body="Seen by the sampler.", component_codes=[rpc_component.code], draft=True)
    assert client.get(f"/status/incidents/{draft.code}/").status_code == HTTPStatus.NOT_FOUND
    client.force_login(member)
    assert client.post(f"/status/incidents/{draft.code}/confirm/").status_code == HTTPStatus.NOT_FOUND
    client.force_login(staff)
    assert "Drafts from the health checks" in client.get("/status/").content.decode()
    assert client.post(f"/status/incidents/{draft.code}/confirm/").status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert not draft.draft
    assert_refused(client.post(f"/status/incidents/{draft.code}/confirm/"), HTTPStatus.CONFLICT,
                   "This incident is already published.")
    assert_refused(client.post(f"/status/incidents/{draft.code}/dismiss/"), HTTPStatus.CONFLICT,
                   "Only drafts can be dismissed; resolve a published incident instead.")
    assert Incident.objects.filter(pk=draft.pk).exists()


@pytest.mark.django_db
def test_dismissing_a_draft(client, staff):
    draft = services.incident_create(user=None, name="Blip", impact="major", status="investigating", body="x",
                                     component_codes=[], draft=True)
    client.force_login(staff)
    assert client.post(f"/status/incidents/{draft.code}/dismiss/").status_code == HTTPStatus.FOUND
    assert not Incident.objects.exists()


def window(hours_from_now: float, length_hours: float = 1.0) -> dict:
    start = timezone.now() + timedelta(hours=hours_from_now)
    return {"scheduled_for": start.strftime("%Y-%m-%dT%H:%M"),
            "scheduled_until": (start + timedelta(hours=length_hours)).strftime("%Y-%m-%dT%H:%M")}


@pytest.mark.django_db
def test_maintenance_window_puts_components_under_maintenance(client, staff, rpc_component):
    client.force_login(staff)
    response = client.post("/status/maintenance/new/", {"name": "Node upgrade", "body": "New version.",
                                                         "components": [rpc_component.code], **window(1)})
    assert response.status_code == HTTPStatus.FOUND
    maintenance = Incident.objects.get()
    assert (maintenance.kind, maintenance.status, maintenance.impact) == ("maintenance", "scheduled", "maintenance")
    services.maintenances_advance(now=maintenance.scheduled_for + timedelta(minutes=1))
    rpc_component.refresh_from_db()
    maintenance.refresh_from_db()
    assert maintenance.status == "in_progress" and rpc_component.status == "under_maintenance"
    assert client.get("/api/v2/status.json").json()["status"] == {"indicator": "none",
                                                                  "description": "Service Under Maintenance"}
    services.maintenances_advance(now=maintenance.scheduled_until + timedelta(minutes=1))
    rpc_component.refresh_from_db()
    maintenance.refresh_from_db()
    assert maintenance.status == "completed" and rpc_component.status == "operational"
    assert [u.status for u in maintenance.updates.order_by("display_at", "pk")] == ["scheduled", "in_progress", "completed"]


@pytest.mark.parametrize("overrides, sentence", [
    ({"name": ""}, "Please write the maintenance title."),
    ({"body": ""}, "Please write the announcement."),
    ({"scheduled_for": ""}, "Please give the start and the end of the maintenance window."),
    ({"scheduled_for": "tomorrow"}, "Starts (UTC): Enter a valid date/time."),
    ({"scheduled_until": "31.02.2026"}, "Ends (UTC): Enter a valid date/time."),
    ({**window(2), "scheduled_until": window(1)["scheduled_for"]}, "The maintenance window must end after it starts."),
    (window(-3), "The maintenance window is already over; please pick a window in the future."),
    ({"components": []}, "Please choose the components the maintenance affects."),
    ({"components": ["nosuchcode00"]}, "One of the chosen components does not exist (any more)."),
])
@pytest.mark.django_db
def test_bad_maintenance_input(client, staff, rpc_component, overrides, sentence):
    client.force_login(staff)
    data = {"name": "Node upgrade", "body": "New version.", "components": [rpc_component.code], **window(1), **overrides}
    assert_refused(client.post("/status/maintenance/new/", data), HTTPStatus.BAD_REQUEST, sentence)
    assert not Incident.objects.exists() and not IncidentUpdate.objects.exists()


@pytest.mark.parametrize("url, sentence", [
    ("/status/incidents/new/", "Please write the incident title."),
    ("/status/maintenance/new/", "Please write the maintenance title."),
])
@pytest.mark.django_db
def test_an_empty_form_is_refused_with_the_first_missing_field(client, staff, url, sentence):
    client.force_login(staff)
    assert client.get(url).status_code == HTTPStatus.OK
    assert_refused(client.post(url, {}), HTTPStatus.BAD_REQUEST, sentence)
    assert not Incident.objects.exists() and not IncidentUpdate.objects.exists()


@pytest.mark.django_db
def test_pages_render(client, staff, incident, rpc_component):
    for url in ("/status/", f"/status/components/{rpc_component.slug}/", f"/status/incidents/{incident.code}/",
                "/status/history/", "/"):
        assert client.get(url).status_code == HTTPStatus.OK, url
    assert client.get("/status/components/nope/").status_code == HTTPStatus.NOT_FOUND
    bad = client.get(f"/status/components/{rpc_component.slug}/metrics.json?range=1y")
    assert bad.status_code == HTTPStatus.BAD_REQUEST and bad.json() == {"error": "The range must be one of 24h, 7d or 90d."}


# staff also read drafts and failed webhooks. The finished days' bars are cached per component per day: a page that
# renders them (the first of the day, or after a status-log row or an incident) reads them too. What every reader
# sees is rendered once per status version (with the status log's newest row) and minute (`cached`: the version and
# the reader's own parts).
@pytest.mark.parametrize("who, queries, cached", [(None, 17, 1), ("staff", 24, 8)])
@pytest.mark.django_db
def test_the_status_page_reads_a_fixed_number_of_queries(client, staff, django_assert_num_queries, who, queries,
                                                         cached):
    components = demo.seed_components()
    demo.seed_history(components)
    services.incident_create(user=staff, name="A", impact="minor", status="investigating", body="x",
                             component_codes=[components[0].code])
    if who:
        client.force_login(staff)
    with django_assert_num_queries(queries + 2):  # the status log before today, and incidents, for the cache
        assert client.get("/status/").status_code == HTTPStatus.OK
    with django_assert_num_queries(cached):
        assert client.get("/status/").status_code == HTTPStatus.OK
    extra = Component.objects.create(slug="extra", name="Extra", group=components[0].group)
    ComponentStatusChange.objects.create(component=extra, status="operational", at=timezone.now() - timedelta(days=30))
    services.incident_create(user=staff, name="B", impact="major", status="identified", body="y",
                             component_codes=[c.code for c in components])
    with django_assert_num_queries(queries + 2):  # more components, days and incidents read no more queries
        assert client.get("/status/").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_an_incident_update_writes_a_fixed_number_of_queries(client, staff, member, incident, rpc_component, make_user,
                                                              django_assert_num_queries,
                                                              django_capture_on_commit_callbacks, run_effects):
    IncidentFollower.objects.create(incident=incident, user=member)
    Webhook.objects.create(url="https://ops.example/hook")
    client.force_login(staff)
    # The write: session, user, sanctions; the incident, then locked; its save, components, the update; a savepoint;
    # the followers' notice queued (task and ledger row, portal.effects); the listening webhooks, the incident and
    # the page's state for their body, and its fan-out queued (task and ledger row) — the same for any number; the
    # subscribers' mail queued the same way (the newest update, the ledger check, task and ledger row in a savepoint).
    with django_assert_num_queries(27):
        response = client.post(f"/status/incidents/{incident.code}/updates/", {"status": "identified", "body": "A"})
    assert response.status_code == HTTPStatus.FOUND
    # With what follows the commit: the live fragments and the followers' notifications (tried at once after commit
    # through the effects ledger); the webhooks' fan-out waits for a task worker.
    with django_assert_num_queries(54), django_capture_on_commit_callbacks(execute=True):
        client.post(f"/status/incidents/{incident.code}/updates/", {"status": "monitoring", "body": "B"})
    follower = make_user()
    StatusFollower.objects.create(user=follower)
    Webhook.objects.create(url="https://ops.example/second-hook")
    with django_assert_num_queries(54), django_capture_on_commit_callbacks(execute=True):  # however many listen
        client.post(f"/status/incidents/{incident.code}/updates/", {"status": "monitoring", "body": "C"})
    assert incident.updates.count() == 4
    assert Notification.objects.filter(recipient=member).count() == 2 and Notification.objects.filter(
        recipient=follower).count() == 1
    run_effects()  # every update's deliveries, the first one's too (it was queued with its write, not after commit)
    assert WebhookDelivery.objects.filter(event="incident.updated").count() == 4


@pytest.mark.django_db
def test_following_all_incidents_notifies_of_new_ones(client, staff, member, rpc_component,
                                                     django_capture_on_commit_callbacks):
    resolved = services.incident_create(user=staff, name="A short blip", impact="minor", status="resolved",
                                        body="Gone.", component_codes=[])
    refused = client.post("/status/follow/")
    assert_refused(refused, HTTPStatus.FORBIDDEN, "Please sign in with your wallet to follow incidents.")
    assert resolved.name in refused.content.decode()  # the whole status page, its past incidents too
    assert not StatusFollower.objects.exists()
    client.force_login(member)
    assert client.post("/status/follow/", {"follow": "1"}).status_code == HTTPStatus.FOUND
    assert "Following incidents ✓" in client.get("/status/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_create(user=staff, name="DB slow", impact="minor", status="investigating",
                                            body="Queries are slow.", component_codes=[])
    note = Notification.objects.get(recipient=member)
    assert note.text == "DB slow: investigating — Queries are slow." and note.url == f"/status/incidents/{incident.code}/"
    client.post("/status/follow/", {"follow": "0"})
    assert not StatusFollower.objects.exists()


@pytest.mark.django_db
def test_seeding_twice_changes_nothing_and_keeps_admin_edits():
    demo.seed(stdout=io.StringIO())
    counts = (Component.objects.count(), Check.objects.count(), Incident.objects.count(),
              ComponentStatusChange.objects.count())
    Check.objects.filter(slug="utilization").update(degraded_at=80)
    demo.seed(stdout=io.StringIO())
    assert counts == (Component.objects.count(), Check.objects.count(), Incident.objects.count(),
                      ComponentStatusChange.objects.count())
    expected = (len(demo.COMPONENTS), sum(len(component[4]) for component in demo.COMPONENTS))
    assert counts[:2] == expected == (7, 14) and counts[2] == 2
    assert Check.objects.get(slug="utilization").degraded_at == 80
