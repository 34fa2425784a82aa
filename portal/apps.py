from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal.conf import portal_settings  # app registry: settings are read once the apps are loaded

        portal_settings()  # a wrong value stops start-up with a sentence naming the variable
