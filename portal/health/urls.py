from django.urls import path

from . import feeds, views

app_name = "health"

urlpatterns = [
    path("", views.index, name="index"),
    path("history/", views.history, name="history"),
    path("follow/", views.follow_all, name="follow"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_change, name="webhook-change"),
    path("webhooks/<int:pk>/test/", views.webhook_test, name="webhook-test"),
    path("webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
    path("history.atom", feeds.IncidentFeed(), name="feed"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/sent/", views.subscribed, name="subscribed"),
    path("subscribe/confirm/<str:token>/", views.subscription_confirm, name="subscription-confirm"),
    path("components/<slug:slug>/history.atom", feeds.ComponentIncidentFeed(), name="component-feed"),
    path("components/<slug:slug>/", views.component_detail, name="component"),
    path("components/<slug:slug>/metrics.json", views.component_metrics, name="component-metrics"),
    path("incidents/new/", views.incident_new, name="incident-new"),
    path("maintenance/new/", views.maintenance_new, name="maintenance-new"),
    path("incidents/<str:code>/", views.incident_detail, name="incident"),
    path("incidents/<str:code>/updates/", views.incident_update, name="incident-update"),
    path("incidents/<str:code>/confirm/", views.incident_confirm, name="incident-confirm"),
    path("incidents/<str:code>/dismiss/", views.incident_dismiss, name="incident-dismiss"),
    path("incidents/<str:code>/follow/", views.incident_follow, name="incident-follow"),
]
