"""The whole suite as OS processes: `make run` on SQLite, e2e tests and benchmarks on PostgreSQL.

One place knows how the services find each other (URL settings), which secrets they share and
which API clients submission creates at start, so `deploy/local/suite.py`, `tests/e2e/` and the
benchmarks in `bench/` start the same suite.
"""

import asyncio
import base64
import csv
import importlib.util
import json
import secrets
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ozg_testing import (
    delete_topics,
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    unique_topic_prefix,
)
from ozg_testing.processes import ServiceProcess


@dataclass(frozen=True)
class ServiceSpec:
    """A process of the suite: its name, its module (`python -m`), its default port, its env prefix."""

    name: str
    module: str
    default_port: int

    @property
    def env_prefix(self) -> str:
        return "OZG_" + self.name.upper().replace("-", "_") + "_"

    @property
    def database_name(self) -> str:
        return self.name.replace("-", "_")


SERVICES = [
    ServiceSpec("zufi", "ozg_zufi", 8001),
    ServiceSpec("submission", "ozg_submission", 8002),
    ServiceSpec("kop-gateway", "ozg_kop_gateway", 8003),
    ServiceSpec("payment", "ozg_payment", 8004),
    ServiceSpec("mailbox", "ozg_mailbox", 8005),
    ServiceSpec("demo-receiver", "ozg_demo_receiver", 8009),
]
SPECS = {spec.name: spec for spec in SERVICES}
KAFKA_SERVICES = ("zufi", "submission", "kop-gateway", "payment", "mailbox")
"""The demo receiver is a Fachverfahren: HTTP only, no Kafka."""


def dev_secrets(path: Path) -> dict[str, str]:
    """Secrets for a local suite, generated once and kept in `path` (outside git)."""
    if path.exists():
        return dict(json.loads(path.read_text()))
    values = {
        "signing_master_secret": secrets.token_urlsafe(32),
        "secret_encryption_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "admin_client_secret": secrets.token_urlsafe(24),
        "sender_client_secret": secrets.token_urlsafe(24),
        "demo_receiver_client_secret": secrets.token_urlsafe(24),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


DEMO_RECEIVER_SCOPE = "zustellkanal-host:127.0.0.1:8009"


def bootstrap_clients(values: Mapping[str, str]) -> list[dict[str, Any]]:
    """The API clients submission creates at start: an operator, a demo form, the demo Fachverfahren."""
    return [
        {"client_id": "ozg-admin", "client_secret": values["admin_client_secret"], "scopes": ["admin"]},
        {"client_id": "demo-form", "client_secret": values["sender_client_secret"], "scopes": ["send"]},
        {
            "client_id": "demo-receiver",
            "client_secret": values["demo_receiver_client_secret"],
            # The Fachverfahren behind the demo Zustellkanal answers for every destination it serves.
            "scopes": [DEMO_RECEIVER_SCOPE],
        },
    ]


def write_clients(path: Path, values: Mapping[str, str]) -> None:
    path.write_text(json.dumps(bootstrap_clients(values), indent=2))
    path.chmod(0o600)


def shared_environment(values: Mapping[str, str], clients_file: Path) -> dict[str, str]:
    """What every suite shares: the clients file, the webhook secrets, loopback delivery allowed."""
    return {
        "OZG_SUBMISSION_BOOTSTRAP_CLIENTS_FILE": str(clients_file),
        "OZG_KOP_GATEWAY_SIGNING_MASTER_SECRET": values["signing_master_secret"],
        "OZG_KOP_GATEWAY_SECRET_ENCRYPTION_KEY": values["secret_encryption_key"],
        "OZG_KOP_GATEWAY_ALLOW_LOOPBACK": "true",
        "OZG_KOP_GATEWAY_ALLOW_HTTP": "true",
        "OZG_DEMO_RECEIVER_SIGNING_MASTER_SECRET": values["signing_master_secret"],
        "OZG_DEMO_RECEIVER_CLIENT_ID": "demo-receiver",
        "OZG_DEMO_RECEIVER_CLIENT_SECRET": values["demo_receiver_client_secret"],
    }


def wiring(ports: Mapping[str, int]) -> dict[str, str]:
    """How the services find each other when they do not listen on their default ports."""
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env: dict[str, str] = {}
    for name, port in ports.items():
        prefix = SPECS[name].env_prefix
        env[prefix + "PORT"] = str(port)
        env[prefix + "JWKS_URL"] = f"{url['submission']}/.well-known/jwks.json"
        env[prefix + "TOKEN_ISSUER"] = url["submission"]
    env["OZG_SUBMISSION_ZUFI_URL"] = url["zufi"]
    env["OZG_SUBMISSION_KOP_GATEWAY_ISSUER"] = url["kop-gateway"]
    env["OZG_SUBMISSION_KOP_GATEWAY_JWKS_URL"] = f"{url['kop-gateway']}/.well-known/jwks.json"
    env["OZG_ZUFI_DEMO_RECEIVER_URL"] = url["demo-receiver"]
    env["OZG_DEMO_RECEIVER_SUBMISSION_URL"] = url["submission"]
    env["OZG_DEMO_RECEIVER_KOP_GATEWAY_URL"] = url["kop-gateway"]
    return env


@dataclass
class Suite:
    """A running suite: its processes, URLs, logs and API clients."""

    run_dir: Path
    processes: dict[str, ServiceProcess]
    clients: list[dict[str, Any]]
    topic_prefix: str
    started_in: float = 0.0
    start_times: dict[str, float] = field(default_factory=dict)
    receiver_destinations: set[str] = field(default_factory=set)
    lands: tuple[str, ...] | None = None
    """The Länder zufi knows (None: all)."""

    def url(self, name: str) -> str:
        return self.processes[name].base_url

    @property
    def clients_file(self) -> Path:
        return self.run_dir / "clients.json"

    def client(self, scope: str) -> dict[str, Any]:
        return next(c for c in self.clients if scope in c["scopes"])

    def logs(self) -> dict[str, str]:
        """Every service's log of this run."""
        return {
            name: p.log_path.read_text(errors="replace") if p.log_path.exists() else ""
            for name, p in self.processes.items()
        }

    async def start(self, *, within: float = 300) -> None:
        began = time.monotonic()
        for process in self.processes.values():
            await process.start(wait_ready=False)

        async def ready(name: str, process: ServiceProcess) -> None:
            await process.wait_ready(within)
            self.start_times[name] = time.monotonic() - began

        await asyncio.gather(*(ready(name, p) for name, p in self.processes.items()))
        self.started_in = time.monotonic() - began

    async def settled(self, *, within: float = 180, quiet: float = 1.5) -> float:
        """Wait until every outbox is published and every consumer has caught up (from `/metrics`).

        After the first start zufi publishes its whole seed (~12k destinations); the other services'
        read models are complete only once they consumed it. Returns the seconds waited.
        """
        began = time.monotonic()
        previous: dict[str, float] | None = None
        async with httpx.AsyncClient(timeout=10) as http:
            while True:
                current = await self._progress(http)
                if current is not None and current == previous and _all_caught_up(current):
                    return time.monotonic() - began
                if time.monotonic() - began > within:
                    raise TimeoutError(f"the suite did not settle within {within:.0f} s: {current}")
                previous = current
                await asyncio.sleep(quiet)

    async def _progress(self, http: httpx.AsyncClient) -> dict[str, float] | None:
        values: dict[str, float] = {}
        for name in KAFKA_SERVICES:
            if name not in self.processes:
                continue
            try:
                answer = await http.get(f"{self.url(name)}/metrics")
            except httpx.HTTPError:
                return None
            for line in answer.text.splitlines():
                metric = line.split("{")[0].split(" ")[0]
                if metric in {"outbox_backlog", "consumer_lag", "events_consumed_total"}:
                    key, _, value = line.rpartition(" ")
                    values[f"{name}:{key}"] = float(value)
        return values

    async def restart(self, name: str, *, kill: bool = True, within: float = 120) -> None:
        """SIGKILL (or stop) one service and start it again on the same port."""
        process = self.processes[name]
        if kill:
            process.kill()
        else:
            process.stop()
        await process.start(wait_ready=True, within=within)

    def stop(self) -> None:
        """SIGTERM to all at once (each drains on its own), then wait for each."""
        for process in self.processes.values():
            if process.process is not None and process.process.poll() is None:
                process.process.terminate()
        for process in self.processes.values():
            process.stop()

    async def close(self) -> None:
        """Stop every service, then delete the run's topics."""
        self.stop()
        await delete_topics(self.topic_prefix)

    async def token(self, http: httpx.AsyncClient, scope: str, **extra: str) -> str:
        """A client-credentials token of the bootstrap client holding `scope`."""
        client = self.client(scope)
        form = {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            **extra,
        }
        answer = await http.post(f"{self.url('submission')}/token", data=form)
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    async def grant_receiver(self, http: httpx.AsyncClient, destination_ids: list[str]) -> None:
        """Let the demo Fachverfahren answer for these destinations (`destination:<id>` scopes, added)."""
        self.receiver_destinations.update(destination_ids)
        admin = await self.token(http, "admin")
        scopes = [DEMO_RECEIVER_SCOPE, *(f"destination:{d}" for d in sorted(self.receiver_destinations))]
        answer = await http.patch(
            f"{self.url('submission')}/v1/admin/clients/demo-receiver",
            json={"scopes": scopes},
            headers={"Authorization": f"Bearer {admin}"},
        )
        answer.raise_for_status()


def _fresh_run_dir(run_dir: Path) -> dict[str, str]:
    """An empty directory for the run's keys, blobs, logs, secrets and clients file."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    values = dev_secrets(run_dir / "dev-secrets.json")
    write_clients(run_dir / "clients.json", values)
    return values


def directory_excerpt(source: Path, target: Path, lands: Sequence[str]) -> Path:
    """zufi's area data (Gemeindeverzeichnis, postal codes) restricted to some Länder.

    The whole directory seeds ~12k demo destinations, which every consumer's read model takes minutes
    to take in on a small machine; tests and benchmarks need a few Länder of real places only.
    """
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.csv"):
        with (
            path.open(encoding="utf-8-sig", newline="") as read,
            (target / path.name).open("w", encoding="utf-8", newline="") as write,
        ):
            rows = csv.DictReader(read)
            assert rows.fieldnames is not None
            out = csv.DictWriter(write, rows.fieldnames)
            out.writeheader()
            column = "land" if "land" in rows.fieldnames else "ags"
            out.writerows(row for row in rows if (row[column] or "")[:2] in lands)
    for extra in source.iterdir():
        if extra.suffix != ".csv" and extra.is_file():
            shutil.copy(extra, target / extra.name)
    return target


def _all_caught_up(progress: Mapping[str, float]) -> bool:
    return all(
        value == 0 for key, value in progress.items() if "outbox_backlog" in key or "consumer_lag" in key
    )


async def postgres_suite(
    run_dir: Path,
    *,
    database_prefix: str,
    settings: Mapping[str, Mapping[str, str]] | None = None,
    services: list[str] | None = None,
    lands: Sequence[str] | None = ("01",),
) -> Suite:
    """A suite on fresh PostgreSQL databases `<database_prefix>_<service>`, its own topics and free ports.

    `settings` adds per-service settings without prefix, e.g. `{"kop-gateway": {"RETRY_SCHEDULE": "[1]"}}`.
    `lands`: zufi imports and seeds only these Länder (default Schleswig-Holstein; None: all of Germany).
    Not started yet: call `await suite.start()`.
    """
    values = _fresh_run_dir(run_dir)
    clients_file = run_dir / "clients.json"
    names = services or [spec.name for spec in SERVICES]
    ports = {name: free_port() for name in names}
    topic_prefix = unique_topic_prefix()
    env = {**shared_environment(values, clients_file), **wiring(ports)}
    if lands is not None and "zufi" in names:
        source = Path(importlib.util.find_spec("ozg_zufi").origin or "").parent / "data"  # type: ignore[union-attr]
        env["OZG_ZUFI_AREA_DATA_DIR"] = str(directory_excerpt(source, run_dir / "zufi-data", lands))
    for name in names:
        prefix = SPECS[name].env_prefix
        database = await fresh_postgres_database(f"{database_prefix}_{SPECS[name].database_name}")
        env[prefix + "DATABASE_URL"] = database
        env[prefix + "VAR_DIR"] = str(run_dir)
        if name in KAFKA_SERVICES:
            env[prefix + "KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap()
            env[prefix + "TOPIC_PREFIX"] = topic_prefix
        for key, value in (settings or {}).get(name, {}).items():
            env[prefix + key] = value
    processes = {
        name: ServiceProcess(
            SPECS[name].module, env, port=ports[name], log_path=run_dir / "log" / f"{name}.log"
        )
        for name in names
    }
    return Suite(
        run_dir, processes, bootstrap_clients(values), topic_prefix, lands=tuple(lands) if lands else None
    )


def installed(module: str) -> bool:
    return any((Path(p) / module).is_dir() for p in sys.path if p)
