from django.apps import AppConfig
from django.core import checks


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"

    def ready(self):
        from .checks import email_delivery  # app registry: the check reads settings once the apps are loaded

        checks.register(email_delivery, checks.Tags.security, deploy=True)
