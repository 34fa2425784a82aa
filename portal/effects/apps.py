from django.apps import AppConfig


class EffectsConfig(AppConfig):
    name = "portal.effects"
    label = "effects"
    verbose_name = "Durable effects"
