"""`/api/v2/*.json`, shaped like Atlassian Statuspage."""

urlpatterns: list = []
