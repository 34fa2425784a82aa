#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # a missing or wrong setting: the operator needs its sentence, not a traceback
        sys.exit(f"The portal is not configured: {exc}")


if __name__ == "__main__":
    main()
