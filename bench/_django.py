"""Set-up shared by the benchmarks that need Django: the project on sys.path, dev settings, and a throw-away
DEVCHAIN_DIR so a benchmark never touches the dev chain's records. Import it before anything from the project."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["DEVCHAIN_DIR"] = tempfile.mkdtemp(prefix="bench-devchain-")

import django  # noqa: E402

django.setup()
