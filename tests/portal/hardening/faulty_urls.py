"""The portal's URLs plus views that fail on purpose, to test the error handlers with DEBUG off."""

from django.db import OperationalError
from django.urls import path

from portal.urls import handler400, handler403, handler404, handler500, urlpatterns as portal_urlpatterns


def crash(request):
    raise RuntimeError("a bug in a view")


def database_gone(request):
    raise OperationalError('connection failed: FATAL:  sorry, too many clients already')


urlpatterns = [
    path("api/v1/crash", crash),
    path("crash/", crash),
    path("api/v1/database-gone", database_gone),
    path("database-gone/", database_gone),
    *portal_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
