from django.urls import path

from . import views

app_name = "discussion"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.thread_new, name="thread_new"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("t/<int:pk>/", views.thread, name="thread"),
    path("t/<int:pk>/comments/", views.comment_create, name="comment_create"),
    path("t/<int:pk>/changes/", views.thread_changes, name="thread_changes"),
    path("t/<int:pk>/flag/", views.thread_flag, name="thread_flag"),
    path("t/<int:pk>/moderate/", views.thread_moderate, name="thread_moderate"),
    path("comments/<int:pk>/", views.comment_fragment, name="comment_fragment"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/plus/", views.comment_plus, name="comment_plus"),
    path("comments/<int:pk>/flag/", views.comment_flag, name="comment_flag"),
    path("comments/<int:pk>/hide/", views.comment_hide, name="comment_hide"),
    path("comments/<int:pk>/history/", views.comment_history, name="comment_history"),
    path("review/", views.review, name="review"),
    path("review/<str:kind>/<int:pk>/", views.review_decide, name="review_decide"),
    path("sanctions/", views.sanction, name="sanction"),
    path("sanctions/<int:pk>/lift/", views.sanction_lift, name="sanction_lift"),
    path("log/", views.log, name="log"),
]
