"""Compiled contract artifacts (built by `make` into build/, never committed)."""

import json
from functools import lru_cache
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent / "build"


class ArtifactMissing(Exception):
    pass


@lru_cache(maxsize=None)
def artifact(name: str) -> dict:
    """`{"abi", "bytecode", "deployedBytecode"}` of a compiled contract."""
    path = BUILD_DIR / f"{name}.json"
    if not path.exists():
        raise ArtifactMissing(f"Contract {name} is not compiled: run `make contracts` (needs Node.js 20+).")
    return json.loads(path.read_text())
