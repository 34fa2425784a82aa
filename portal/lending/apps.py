from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "portal.lending"
    label = "lending"
    verbose_name = "Lending positions"
    default_auto_field = "django.db.models.BigAutoField"
