"""`manage.py db_worker` that prints each SQL statement (and its parameters) on stdout just before it sends it, so a
fault test knows the worker is about to wait on a row lock the test holds: `python -m tests.portal.effects.
announcing_worker --interval 0.05 …` takes db_worker's options."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.core.management import execute_from_command_line  # noqa: E402  (after django.setup())
from django.db import connection  # noqa: E402


def announce(execute, sql, params, many, context):
    print(f"about to run: {sql} params={params!r}", flush=True)
    return execute(sql, params, many, context)


if __name__ == "__main__":
    connection.execute_wrappers.append(announce)  # the worker runs its tasks in this thread: this connection
    execute_from_command_line(["manage.py", "db_worker", *sys.argv[1:]])
