"""`make run`: the local chain (unless CHAIN_RPC_URL is set), migrations, demo data, the health sampler, one
background-task worker and the site on uvicorn.

Ctrl-C stops everything this started.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

from governance.devchain import DEV_KEYS, ROOT, rpc_ready, start_anvil, stop_anvil


def main() -> int:
    port = os.environ.get("PORT", "8000")
    chain_port = int(os.environ.get("CHAIN_PORT", "8545"))
    children: list[subprocess.Popen] = []
    anvil = None
    if os.environ.get("CHAIN_RPC_URL"):
        print(f"Using the chain at {os.environ['CHAIN_RPC_URL']} (CHAIN_RPC_URL).")
    elif rpc_ready(f"http://127.0.0.1:{chain_port}"):
        print(f"A chain already answers on 127.0.0.1:{chain_port}; using it.")
    else:
        state = Path(os.environ.get("DEVCHAIN_DIR", ROOT / ".devchain")) / "state.json"
        print(f"Starting anvil on 127.0.0.1:{chain_port} (state in {state.relative_to(ROOT) if state.is_relative_to(ROOT) else state}) …")
        anvil = start_anvil(port=chain_port, state_file=state)
    manage = [sys.executable, str(ROOT / "manage.py")]
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True)
        subprocess.run([*manage, "seed_demo"], check=True)
        children.append(subprocess.Popen([*manage, "run_health_checks"]))
        children.append(subprocess.Popen([*manage, "db_worker", "--no-reload"]))  # one background-task worker
        print(
            f"\n  The portal: http://127.0.0.1:{port}/\n"
            f"  Wallet: add the network http://127.0.0.1:{chain_port} (chain id 31337) and import a dev key, e.g.\n"
            f"    account #0 (admin) {DEV_KEYS[0]}\n"
            f"    account #1          {DEV_KEYS[1]}\n"
            "  These keys are public: use them on the dev chain only. Ctrl-C stops everything.\n"
        )
        # uvicorn, the production server the README recommends (2–4× daphne's throughput here, see Benchmarks).
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1", "--port", port,
             "--ws", "websockets-sansio"],
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        )
        children.append(server)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"`{' '.join(exc.cmd[1:])}` failed (exit {exc.returncode}); see the messages above.", file=sys.stderr)
        return 1
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if anvil is not None:
            stop_anvil(anvil)
            print("Stopped anvil; its state is kept for the next `make run`.")


if __name__ == "__main__":
    sys.exit(main())
