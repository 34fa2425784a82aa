from django.urls import path

from . import feeds, views

app_name = "feedback"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("similar/", views.similar, name="similar"),
    path("roadmap/", views.roadmap, name="roadmap"),
    path("queue/", views.queue, name="queue"),
    path("feed.atom", feeds.BoardFeed(), name="feed"),
    path("tags/<slug:slug>/feed.atom", feeds.TagFeed(), name="tag_feed"),
    path("<int:pk>/", views.detail, name="post"),
    path("<int:pk>/vote/", views.vote, name="vote"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/promote/", views.promote, name="promote"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/answer/", views.answer, name="answer"),
    path("<int:pk>/solve/", views.solve, name="solve"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
]
