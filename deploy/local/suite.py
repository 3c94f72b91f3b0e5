"""`make run`: every service as its own process on SQLite, until Ctrl-C stops them all.

First start creates the dev secrets and API clients under var/ (never in git); later starts reuse them.
"""

import asyncio
import signal
import sys
import time

from ozg_common.settings import PROJECT_ROOT
from ozg_common.tasks import wait_until_set
from ozg_testing.citizen_login import mailbox_citizen_settings, provider_issuer
from ozg_testing.processes import ServiceProcess
from ozg_testing.suite_harness import SERVICES, dev_secrets, installed, shared_environment, write_clients

VAR = PROJECT_ROOT / "var"
LOGS = VAR / "log"
SECRETS_FILE = VAR / "dev-secrets.json"
CLIENTS_FILE = VAR / "clients.json"


async def main(issuer: str) -> int:
    values = dev_secrets(SECRETS_FILE)
    write_clients(CLIENTS_FILE, values)
    citizen_login = {f"OZG_MAILBOX_{key}": value for key, value in mailbox_citizen_settings(issuer).items()}
    env = shared_environment(values, CLIENTS_FILE) | citizen_login
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
