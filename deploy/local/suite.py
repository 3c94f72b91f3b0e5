"""`make run`: every service as its own process on SQLite, until Ctrl-C stops them all.

First start creates the dev secrets and API clients under var/ (never in git); later starts reuse them.
"""

import asyncio
import base64
import json
import secrets
import signal
import sys
import time
from pathlib import Path

from ozg_common.processes import ServiceProcess
from ozg_common.settings import PROJECT_ROOT

VAR = PROJECT_ROOT / "var"
LOGS = VAR / "log"
SECRETS_FILE = VAR / "dev-secrets.json"
CLIENTS_FILE = VAR / "clients.json"

SERVICES = [
    ("zufi", "ozg_zufi", 8001),
    ("submission", "ozg_submission", 8002),
    ("kop-gateway", "ozg_kop_gateway", 8003),
    ("payment", "ozg_payment", 8004),
    ("mailbox", "ozg_mailbox", 8005),
    ("demo-receiver", "ozg_demo_receiver", 8009),
]


def dev_secrets() -> dict[str, str]:
    """Secrets for local development, generated once."""
    if SECRETS_FILE.exists():
        return dict(json.loads(SECRETS_FILE.read_text()))
    values = {
        "signing_master_secret": secrets.token_urlsafe(32),
        "secret_encryption_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "admin_client_secret": secrets.token_urlsafe(24),
        "sender_client_secret": secrets.token_urlsafe(24),
        "demo_receiver_client_secret": secrets.token_urlsafe(24),
    }
    VAR.mkdir(parents=True, exist_ok=True)
    SECRETS_FILE.write_text(json.dumps(values, indent=2))
    SECRETS_FILE.chmod(0o600)
    return values


def write_clients(values: dict[str, str]) -> None:
    """The API clients submission creates at start: an operator, a demo form, the demo Fachverfahren."""
    clients = [
        {"client_id": "ozg-admin", "client_secret": values["admin_client_secret"], "scopes": ["admin"]},
        {"client_id": "demo-form", "client_secret": values["sender_client_secret"], "scopes": ["send"]},
        {
            "client_id": "demo-receiver",
            "client_secret": values["demo_receiver_client_secret"],
            "scopes": ["demo-destinations"],
        },
    ]
    CLIENTS_FILE.write_text(json.dumps(clients, indent=2))
    CLIENTS_FILE.chmod(0o600)


def environment(values: dict[str, str]) -> dict[str, str]:
    return {
        "OZG_SUBMISSION_BOOTSTRAP_CLIENTS_FILE": str(CLIENTS_FILE),
        "OZG_KOP_GATEWAY_SIGNING_MASTER_SECRET": values["signing_master_secret"],
        "OZG_KOP_GATEWAY_SECRET_ENCRYPTION_KEY": values["secret_encryption_key"],
        "OZG_KOP_GATEWAY_ALLOW_LOOPBACK": "true",
        "OZG_KOP_GATEWAY_ALLOW_HTTP": "true",
        "OZG_DEMO_RECEIVER_SIGNING_MASTER_SECRET": values["signing_master_secret"],
        "OZG_DEMO_RECEIVER_CLIENT_ID": "demo-receiver",
        "OZG_DEMO_RECEIVER_CLIENT_SECRET": values["demo_receiver_client_secret"],
    }


def installed(module: str) -> bool:
    return any((Path(p) / module).is_dir() for p in sys.path if p)


async def main() -> int:
    values = dev_secrets()
    write_clients(values)
    env = environment(values)
    processes = [
        (name, ServiceProcess(module, env, port=port, log_path=LOGS / f"{name}.log"))
        for name, module, port in SERVICES
        if installed(module)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    started = time.monotonic()
    try:
        for _, process in processes:
            await process.start(wait_ready=False)
        # zufi imports the municipality directory on its first start: give it time.
        try:
            await asyncio.gather(*(process.wait_ready(within=300) for _, process in processes))
        except (RuntimeError, TimeoutError) as exc:
            print(f"start-up failed: {exc}", file=sys.stderr)
            return 1
        print(f"\nozg-router is up ({time.monotonic() - started:.1f} s). Logs in {LOGS}/\n")
        for name, process in processes:
            print(f"  {name:<14} {process.base_url}   (API docs {process.base_url}/docs)")
        print(f"\n  API clients: {CLIENTS_FILE}\n  Ctrl-C stops everything.\n", flush=True)
        while not stop.is_set():
            for name, process in processes:
                if process.process is not None and process.process.poll() is not None:
                    print(f"{name} exited; see {process.log_path}. Stopping.", file=sys.stderr)
                    return 1
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                continue
        return 0
    finally:
        print("\nstopping ...", flush=True)
        for _, process in processes:
            process.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
