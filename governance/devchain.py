"""Start and stop a local anvil node (npm package @foundry-rs/anvil-linux-amd64) for `make run` and the tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc_ready(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def start_anvil(
    *, port: int, state_file: Path | None = None, chain_id: int | None = None, quiet: bool = True,
    prune_history: bool = False,
) -> subprocess.Popen:
    """Start anvil on 127.0.0.1:`port` and wait until it answers. With `state_file` its state survives restarts;
    `prune_history` keeps only the latest state, like a full node that is no archive node (for tests)."""
    if not ANVIL.exists():
        raise RuntimeError(f"anvil is not installed at {ANVIL.relative_to(ROOT)}: run `npm ci` (Node.js 20+).")
    args = [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--mnemonic", DEV_MNEMONIC, "--accounts", "10"]
    if chain_id is not None:
        args += ["--chain-id", str(chain_id)]
    if prune_history:
        args += ["--prune-history", "1"]
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        # Historical states go into the file too, so a restarted chain still reads the snapshot blocks of the
        # proposals opened before it (without them: "BlockOutOfRangeError" for every vote on them).
        args += ["--state", str(state_file), "--state-interval", "30", "--preserve-historical-states"]
    process = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not rpc_ready(url):
        if process.poll() is not None:
            raise RuntimeError(f"anvil exited with code {process.returncode}; is port {port} already in use?")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"anvil did not answer on {url} within 20 seconds.")
        time.sleep(0.05)
    return process


def stop_anvil(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM lets anvil write its --state file
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def deployments_file() -> Path:
    """Where `seed_demo` records the dev chain's contract addresses (read by settings when present)."""
    return Path(os.environ.get("DEVCHAIN_DIR", ROOT / ".devchain")) / "deployments.json"
