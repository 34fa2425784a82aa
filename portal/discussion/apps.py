from django.apps import AppConfig


class DiscussionConfig(AppConfig):
    name = "portal.discussion"
    label = "discussion"
