"""Staff forms. They only parse; the services decide and say what is wrong."""

from datetime import timezone as dt_timezone

from django import forms

from .models import Component, ComponentStatus, Impact, IncidentStatus

IMPACTS = [(i.value, i.label) for i in Impact if i != Impact.MAINTENANCE]
# What staff may say a component's status is during an incident ("" = leave it to its checks).
COMPONENT_STATUSES = [("", "As its checks say")] + [
    (s.value, s.label) for s in ComponentStatus if s != ComponentStatus.MAINTENANCE]


def component_statuses_from(data) -> dict[str, str] | None:
    """The form's `status-<component code>` choices as {code: status}; None when the form has none."""
    found = {key.removeprefix("status-"): value for key, value in data.items() if key.startswith("status-")}
    return found or None


class ComponentsField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def valid_value(self, value):
        return True  # unknown components get the service's sentence


class IncidentForm(forms.Form):
    name = forms.CharField(required=False, label="Title")
    impact = forms.ChoiceField(choices=IMPACTS, required=False, initial="minor")
    status = forms.ChoiceField(choices=IncidentStatus.choices, required=False, initial="investigating")
    components = ComponentsField(label="Affected components")
    body = forms.CharField(widget=forms.Textarea, required=False, label="First update")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = [(c.code, c.name) for c in Component.objects.order_by("name")]
        for name in ("impact", "status"):
            self.fields[name].valid_value = lambda value: True


class MaintenanceForm(forms.Form):
    name = forms.CharField(required=False, label="Title")
    scheduled_for = forms.DateTimeField(required=False, label="Starts (UTC)",
                                        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    scheduled_until = forms.DateTimeField(required=False, label="Ends (UTC)",
                                          widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    components = ComponentsField(label="Affected components")
    body = forms.CharField(widget=forms.Textarea, required=False, label="Announcement")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = [(c.code, c.name) for c in Component.objects.order_by("name")]

    def clean_scheduled_for(self):
        return _utc(self.cleaned_data.get("scheduled_for"))

    def clean_scheduled_until(self):
        return _utc(self.cleaned_data.get("scheduled_until"))


def _utc(value):
    # The form says UTC; the browser's datetime-local has no zone of its own.
    if value is None:
        return None
    return value.replace(tzinfo=dt_timezone.utc) if value.tzinfo is None else value.astimezone(dt_timezone.utc)


class UpdateForm(forms.Form):
    status = forms.CharField(required=False)
    body = forms.CharField(widget=forms.Textarea, required=False, label="Update")
