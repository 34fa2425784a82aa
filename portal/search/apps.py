from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "portal.search"
    label = "search"
    verbose_name = "Search"

    def ready(self):
        from . import index

        index.connect()
