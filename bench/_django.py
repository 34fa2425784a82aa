"""Set-up shared by the benchmarks that need Django: the project on sys.path, dev settings, and a throw-away
DEVCHAIN_DIR so a benchmark never touches the dev chain's records. Import it before anything from the project."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# bench/siwe.py (the sign-in benchmark) would stand in for the siwe library the portal imports while a script in
# bench/ runs (sys.path[0] is bench/): load the library itself first, with bench/ out of the path for that import.
_bench, sys.path[:] = sys.path[:], [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
import siwe  # noqa: E402,F401
sys.path[:] = _bench
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["DEVCHAIN_DIR"] = tempfile.mkdtemp(prefix="bench-devchain-")

import django  # noqa: E402

django.setup()
