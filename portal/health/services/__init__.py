"""Every write of the status page, in three rooms: `incidents` (what staff and members do, and maintenance windows
moving on the clock), `components` (what the health checks record) and `publishing` (what follows after commit).
`timeline` holds what their incident writes share. Import the functions from here."""

from .components import checks_run_due, check_sample, components_refresh, incident_draft_open, samples_roll_up
from .incidents import (
    incident_confirm,
    incident_create,
    incident_dismiss,
    incident_follow,
    incident_update_post,
    maintenance_schedule,
    maintenances_advance,
    require_status_staff,
    status_follow,
)
from .publishing import webhooks_enqueue

__all__ = [
    "check_sample",
    "checks_run_due",
    "components_refresh",
    "incident_confirm",
    "incident_create",
    "incident_dismiss",
    "incident_draft_open",
    "incident_follow",
    "incident_update_post",
    "maintenance_schedule",
    "maintenances_advance",
    "require_status_staff",
    "samples_roll_up",
    "status_follow",
    "webhooks_enqueue",
]
