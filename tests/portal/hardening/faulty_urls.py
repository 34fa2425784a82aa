"""The portal's URLs plus views that fail on purpose, to test the error handlers with DEBUG off, and views that
hold their request until a test lets it go (admission control)."""

import threading

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.urls import path

from portal.urls import handler400, handler403, handler404, handler500, urlpatterns as portal_urlpatterns


def crash(request):
    raise RuntimeError("a bug in a view")


def database_gone(request):
    raise OperationalError('connection failed: FATAL:  sorry, too many clients already')


class HeldRequests:
    """Requests to /held/ stay in the view until the test calls `release()` once for each; `entered` counts those
    that reached the view, `inside` those in it now, `most_inside` the most there were at once."""

    def __init__(self):
        self.changed = threading.Condition()
        self.reset()

    def reset(self) -> None:
        self.gate = threading.Semaphore(0)
        self.entered = self.inside = self.most_inside = 0

    def view(self, request):
        with self.changed:
            self.entered += 1
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.changed.notify_all()
        try:
            if not self.gate.acquire(timeout=60):
                raise RuntimeError("the test never released this held request")
            return HttpResponse("released")
        finally:
            with self.changed:
                self.inside -= 1
                self.changed.notify_all()

    def wait_entered(self, number: int, timeout: float = 30) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.entered >= number, timeout=timeout):
                raise AssertionError(f"{number} requests should have reached the view, but {self.entered} did")

    def release(self, number: int = 1) -> None:
        self.gate.release(number)


held = HeldRequests()

urlpatterns = [
    path("held/", held.view),
    path("api/v1/crash", crash),
    path("crash/", crash),
    path("api/v1/database-gone", database_gone),
    path("database-gone/", database_gone),
    *portal_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class ConnectionTerminatedMiddleware:
    """A middleware whose database read fails as a terminated backend does (pg_terminate_backend), as the session
    and user reads of Django's own middleware can: no view's process_exception sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.endswith("/connection-terminated/"):
            raise InterfaceError("connection already closed")
        return self.get_response(request)


class DatabaseDownMiddleware:
    """Every query below it fails as an unreachable database does; `attempts` counts the queries that were tried,
    also those of the error page Django draws when a middleware below lets the fault through."""

    attempts = 0

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with connection.execute_wrapper(self._refuse):
            return self.get_response(request)

    @classmethod
    def _refuse(cls, execute, sql, params, many, context):
        cls.attempts += 1
        raise OperationalError("connection failed: Connection refused")
