from django.contrib import admin
from django.urls import include, path, re_path

from portal import views
from portal.accounts import views as account_views
from portal.api import api
from portal.notifications.urls import dev_urlpatterns

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    path("account/", include("portal.accounts.urls")),
    # allauth's e-mail pages are the account page's card; its confirmation link is ours (a sentence per bad link).
    path("accounts/email/", account_views.email_redirect),
    path("accounts/confirm-email/<str:key>/", account_views.email_confirm, name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    path("proposals/", include("governance.urls")),
    path("discussion/", include("portal.discussion.urls")),
    path("status/", include("portal.health.urls")),
    path("feedback/", include("portal.feedback.urls")),
    path("notifications/", include("portal.notifications.urls")),
    path("lending/", include("portal.lending.urls")),
    path("", include("portal.people.urls")),
    path("search/", include("portal.search.urls")),
    path("api/v1/", api.urls),
    path("api/v2/", include("portal.health.status_api_urls")),
    # Any other /api/ address: the JSON 404, even with DEBUG on (Django's debug page is HTML; CONTRACT says never).
    re_path(r"^api/", views.api_not_found),
    path("admin/", admin.site.urls),
    path("dev/mail/", include((dev_urlpatterns, "dev"))),  # the caught mail; 404 unless DEBUG
]

handler400 = "portal.errors.handler400"
handler403 = "portal.errors.handler403"
handler404 = "portal.errors.handler404"
handler500 = "portal.errors.handler500"
