"""`make run`: every service as its own process on SQLite, until Ctrl-C stops them all.

First start creates the dev secrets and API clients under var/ (never in git); later starts reuse them.
"""

import asyncio
import signal
import subprocess
import sys
import time

from ozg_common.settings import PROJECT_ROOT
from ozg_common.tasks import wait_until_set
from ozg_testing.processes import ServiceProcess
from ozg_testing.suite_harness import SERVICES, dev_secrets, installed, shared_environment, write_clients

VAR = PROJECT_ROOT / "var"
LOGS = VAR / "log"
SECRETS_FILE = VAR / "dev-secrets.json"
CLIENTS_FILE = VAR / "clients.json"
OIDC_SCRIPT = PROJECT_ROOT / "deploy" / "local" / "oidc.sh"
OIDC_CLIENT_ID = "ozg-mailbox"
"""The mailbox web page's client id, and the audience deploy/local/oidc/config.json writes."""


def citizen_login(issuer: str) -> dict[str, str]:
    """Citizens log in at the provider `make run` started (deploy/local/oidc.sh), web page and API."""
    return {
        "OZG_MAILBOX_CITIZEN_ISSUER": issuer,
        "OZG_MAILBOX_CITIZEN_AUDIENCE": OIDC_CLIENT_ID,
        # mock-oauth2-server writes `typ: JWT` on every token; the audience sets access tokens apart.
        "OZG_MAILBOX_CITIZEN_TOKEN_TYPES": "*",
        "OZG_MAILBOX_CITIZEN_OIDC_CLIENT_ID": OIDC_CLIENT_ID,
    }


def provider_issuer() -> str:
    """The citizen issuer of the provider `make run` started before the suite."""
    url = subprocess.run([str(OIDC_SCRIPT), "url"], check=True, capture_output=True, text=True).stdout
    return url.strip()


async def main(issuer: str) -> int:
    values = dev_secrets(SECRETS_FILE)
    write_clients(CLIENTS_FILE, values)
    env = shared_environment(values, CLIENTS_FILE) | citizen_login(issuer)
    processes = [
        (
            spec.name,
            ServiceProcess(spec.module, env, port=spec.default_port, log_path=LOGS / f"{spec.name}.log"),
        )
        for spec in SERVICES
        if installed(spec.module)
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
        print(f"\n  citizen login  {issuer}/authorize   (any user name; `make demo` signs in there)")
        print(f"\n  API clients: {CLIENTS_FILE}\n  Ctrl-C stops everything.\n", flush=True)
        while not stop.is_set():
            for name, process in processes:
                if process.process is not None and process.process.poll() is not None:
                    print(f"{name} exited; see {process.log_path}. Stopping.", file=sys.stderr)
                    return 1
            await wait_until_set(stop, 1.0)
        return 0
    finally:
        print("\nstopping ...", flush=True)
        for _, process in processes:
            process.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(provider_issuer())))
