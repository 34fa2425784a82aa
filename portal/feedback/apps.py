from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "portal.feedback"
    label = "feedback"

    def ready(self):
        from . import board  # the models are loaded only once the app registry is ready

        board.connect()
