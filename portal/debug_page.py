"""DEBUG's technical 500 page, without asking a database that is unavailable again.

Django draws its technical page for an exception a middleware lets through, before DatabaseFaultMiddleware replaces
that 500 with the 503 sentence; for a database fault the page is never shown, and drawing it reads the session and
the user again from the request and from every frame's variables — nine more connection attempts in one request, each
another wait for an exhausted pool. So for a database fault the page is one line (the traceback is in the log).
"""

from __future__ import annotations

from django.utils.html import escape
from django.views.debug import ExceptionReporter


class DatabaseFaultReporter(ExceptionReporter):
    """settings.DEFAULT_EXCEPTION_REPORTER: Django's reporter, except for a database fault."""

    def _database_fault(self) -> str | None:
        # Imported here: logging loads this class before the apps, and portal.errors imports models.
        from portal.errors import DATABASE_FAULTS, DATABASE_UNAVAILABLE

        if isinstance(self.exc_value, DATABASE_FAULTS):
            return f"{DATABASE_UNAVAILABLE} ({type(self.exc_value).__name__}: {self.exc_value})"
        return None

    def get_traceback_html(self):
        fault = self._database_fault()
        return super().get_traceback_html() if fault is None else escape(fault)

    def get_traceback_text(self):
        fault = self._database_fault()
        return super().get_traceback_text() if fault is None else fault
