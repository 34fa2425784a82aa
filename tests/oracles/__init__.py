"""Third-party implementations the tests compare the portal with (CONTRACT names them the oracles)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEM = ROOT / "tests" / "oracles" / "viem_typed_data.mjs"


def viem(cases: list[dict]) -> list[dict]:
    """viem's hashTypedData (and recovered signer, where a case has a signature) of each `{"typed", "signature"}`."""
    node = shutil.which("node")
    assert node and (ROOT / "node_modules" / "viem").exists(), "viem (node_modules) is the EIP-712 oracle: make bootstrap"
    run = subprocess.run([node, str(VIEM)], input=json.dumps(cases), capture_output=True, text=True, cwd=ROOT,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)
