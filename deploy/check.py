"""Cross-checks of the deployment files that no generic schema knows; run by deploy/check.sh.

Env files are loaded into each service's real settings class, so a renamed or mistyped setting, or a
new setting nobody documented, fails here instead of in a data centre.
"""

import argparse
import base64
import importlib
import json
import os
import re
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
IMAGE_SETTINGS = {"host", "port", "var_dir"}
"""Set by the image (Dockerfile) for every service, so env files need not repeat them."""
NOT_IN_IMAGES = ("ozg-testing", "ozg-cli", "pytest")
"""The test harness, the operators' CLI and the test runner: a service image carries none of them."""
IMAGE_SYNC = 'uv sync --frozen --no-dev --no-editable --package "ozg-${SERVICE}"'
"""How the Dockerfile installs a service: its locked dependency closure, no dev group."""


@dataclass(frozen=True)
class Service:
    """A deployable of the suite, as the Dockerfile, compose and Kubernetes name it."""

    name: str
    port: int
    optional: bool = False

    @property
    def module(self) -> str:
        return "ozg_" + self.name.replace("-", "_")

    @property
    def env_prefix(self) -> str:
        return "OZG_" + self.name.replace("-", "_").upper() + "_"


SERVICES = (
    Service("zufi", 8001),
    Service("submission", 8002),
    Service("kop-gateway", 8003),
    Service("payment", 8004),
    Service("mailbox", 8005),
    Service("demo-receiver", 8009, optional=True),
)

PRODUCTION_OVERLAY = "production"
DEMO_SETTINGS: dict[str, dict[str, object]] = {
    "zufi": {"seed_demo": False},
    "payment": {"simulated_provider_enabled": False},
    "kop-gateway": {"allow_loopback": False, "allow_http": False},
}
"""Each service's demo, simulation and development switches, with the value production must have."""
PRODUCTION_SETTINGS: dict[str, object] = {"topic_auto_create": False, "kafka_security_protocol": "SASL_SSL"}
"""Every service's settings that must have this value in production: its topics come from the
kafka-topics job, replicated as the cluster needs, never from whichever service starts first; it
reaches Kafka only encrypted and logged in."""

failures: list[str] = []


def fail(message: str) -> None:
    failures.append(message)
    print(f"FAIL {message}")


def settings_class(service: Service) -> type[BaseSettings] | None:
    try:
        module = importlib.import_module(f"{service.module}.settings")
    except ModuleNotFoundError:
        return None
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseSettings) and value.__module__ == module.__name__
    ]
    return classes[0] if len(classes) == 1 else None


def env_file_entries(path: Path) -> tuple[dict[str, str], set[str]]:
    """The KEY=VALUE lines of an env file, and every key it mentions (also commented out)."""
    values: dict[str, str] = {}
    mentioned: set[str] = set()
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match is None:
            continue
        mentioned.add(match[2])
        if match[1] is None:
            values[match[2]] = match[3]
    return values, mentioned


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` / `${NAME}` as `docker compose` would resolve it."""

    def resolve(match: re.Match[str]) -> str:
        return os.environ.get(match[1]) or (match[3] or "")

    return re.sub(r"\$\{([A-Z0-9_]+)(:?-([^}]*))?\}", resolve, value)


@contextmanager
def only_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Settings see exactly `values` among the OZG_ variables while the block runs."""
    saved = {key: value for key, value in os.environ.items() if key.startswith("OZG_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        for key in values:
            os.environ.pop(key, None)
        os.environ.update(saved)


SCRATCH = tempfile.TemporaryDirectory(prefix="ozg-deploy-check-")


def scratch_var_dir() -> str:
    """A throw-away var_dir: settings may create secret files there when a value is not given."""
    return SCRATCH.name


def check_settings(where: str, service: Service, values: Mapping[str, str], mentioned: set[str]) -> None:
    """Keys must be settings of the service, values must parse, every setting must be documented."""
    cls = settings_class(service)
    if cls is None:
        print(f"skip {where}: {service.module}.settings is not installed")
        return
    fields = set(cls.model_fields)
    for key in sorted(mentioned):
        if not key.startswith(service.env_prefix):
            fail(f"{where}: {key} lacks the prefix {service.env_prefix}")
        elif key.removeprefix(service.env_prefix).lower() not in fields:
            fail(f"{where}: {key} is not a setting of {cls.__name__}")
    with only_environment({f"{service.env_prefix}VAR_DIR": scratch_var_dir(), **values}):
        try:
            cls()
        except Exception as exc:
            fail(f"{where}: {cls.__name__} rejects these values: {exc}")
    documented = {key.removeprefix(service.env_prefix).lower() for key in mentioned}
    for field in sorted(fields - documented - IMAGE_SETTINGS):
        fail(f"{where}: setting {service.env_prefix}{field.upper()} is not documented")


def dockerfile_stages() -> dict[str, str]:
    """Stage name → its text, from the Dockerfile."""
    text = (ROOT / "Dockerfile").read_text()
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def check_compose_and_dockerfile() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    stages = dockerfile_stages()
    for service in SERVICES:
        stage = stages.get(service.name)
        if stage is None:
            fail(f"Dockerfile: no stage {service.name}")
        elif f"{service.env_prefix}PORT={service.port}" not in stage or (
            f'"-m", "{service.module}"' not in stage
        ):
            fail(f"Dockerfile: stage {service.name} does not run {service.module} on {service.port}")
        spec = compose["services"].get(service.name)
        if spec is None:
            fail(f"docker-compose.yml: no service {service.name}")
            continue
        if spec["build"]["args"]["SERVICE"] != service.name:
            fail(f"docker-compose.yml: {service.name} builds SERVICE={spec['build']['args']['SERVICE']}")
        if f"{service.port}:{service.port}" not in spec.get("ports", []):
            fail(f"docker-compose.yml: {service.name} does not publish {service.port}")
        values: dict[str, str] = {}
        mentioned: set[str] = set()
        for env_file in spec["env_file"]:
            file_values, file_mentioned = env_file_entries(DEPLOY / env_file)
            values |= file_values
            mentioned |= file_mentioned
        environment = {
            key: interpolate(str(value))
            for key, value in (spec.get("environment") or {}).items()
            if key.startswith(service.env_prefix)
        }
        check_settings(f"compose {service.name}", service, values | environment, mentioned | set(environment))


def locked_closure(package: str) -> set[str]:
    """`package` and every package it needs at runtime, as uv.lock resolves them (extras included)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    needs: dict[str, list[str]] = {}
    for entry in lock["package"]:
        wanted = [dependency["name"] for dependency in entry.get("dependencies", [])]
        for extra in entry.get("optional-dependencies", {}).values():
            wanted += [dependency["name"] for dependency in extra]
        needs[entry["name"]] = wanted
    closure: set[str] = set()
    pending = [package]
    while pending:
        name = pending.pop()
        if name not in closure:
            closure.add(name)
            pending += needs.get(name, [])
    return closure


def check_image_contents() -> None:
    """Each image installs only its service's runtime closure, which holds no test or operator tooling."""
    if IMAGE_SYNC not in (ROOT / "Dockerfile").read_text():
        fail(f"Dockerfile: the builder does not install with `{IMAGE_SYNC}`")
    for service in SERVICES:
        closure = locked_closure(f"ozg-{service.name}")
        if len(closure) == 1:
            fail(f"uv.lock: no package ozg-{service.name}")
        for package in NOT_IN_IMAGES:
            if package in closure:
                fail(f"image {service.name}: its locked dependencies include {package}")


def check_kubernetes(rendered: Path) -> None:
    by_name = {service.name: service for service in SERVICES}
    for path in sorted(rendered.glob("*.yaml")):
        objects = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        config_maps = {
            doc["metadata"]["name"]: doc.get("data", {}) for doc in objects if doc["kind"] == "ConfigMap"
        }
        for deployment in (doc for doc in objects if doc["kind"] == "Deployment"):
            name = deployment["metadata"]["name"]
            service = by_name.get(name)
            if service is None:
                fail(f"k8s {path.stem}: Deployment {name} is not a known service")
                continue
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            if container["ports"][0]["containerPort"] != service.port:
                fail(f"k8s {path.stem}: {name} listens on {container['ports'][0]['containerPort']}")
            if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                fail(f"k8s {path.stem}: {name} has no /healthz liveness probe")
            if (
                service.name != "demo-receiver"
                and container["readinessProbe"]["httpGet"]["path"] != "/readyz"
            ):
                fail(f"k8s {path.stem}: {name} has no /readyz readiness probe")
            config: dict[str, str] = next(
                (config_maps[ref["configMapRef"]["name"]] for ref in container.get("envFrom", [])), {}
            )
            env = {item["name"] for item in container.get("env", [])}
            keys = set(config) | env
            # Values from Secrets are unknown here: stand-ins let settings that require them load.
            values = dict(config) | secret_stand_ins(service, container)
            settings = check_settings_subset(f"k8s {path.stem} {name}", service, values, keys)
            if path.stem == PRODUCTION_OVERLAY:
                check_no_demo(f"k8s {path.stem} {name}", service, settings)
        check_ingresses(path.stem, objects)


SECRET_STAND_IN = base64.b64encode(bytes(range(32))).decode()
"""The value of a secret setting taken from a Kubernetes Secret, while checked: no placeholder, and
valid wherever the suite takes a secret (a base64 AES-256 key included)."""


def secret_stand_ins(service: Service, container: Mapping[str, Any]) -> dict[str, str]:
    """A stand-in for each secret setting (SecretStr) the container takes from a Kubernetes Secret."""
    cls = settings_class(service)
    fields = cls.model_fields if cls is not None else {}
    stand_ins: dict[str, str] = {}
    for item in container.get("env", []):
        field = fields.get(item["name"].removeprefix(service.env_prefix).lower())
        if (
            "secretKeyRef" in item.get("valueFrom", {})
            and field is not None
            and field.annotation is SecretStr
        ):
            stand_ins[item["name"]] = SECRET_STAND_IN
    return stand_ins


def check_no_demo(where: str, service: Service, settings: BaseSettings | None) -> None:
    """Production runs no demo part: no demo receiver, every demo or simulation switch off."""
    if service.optional:
        fail(f"{where}: the {service.name} is a demo part and must not be deployed")
    for field, safe in (PRODUCTION_SETTINGS | DEMO_SETTINGS.get(service.name, {})).items():
        value = getattr(settings, field, safe)
        if value != safe:
            fail(f"{where}: {service.env_prefix}{field.upper()} is {value}; production needs {safe}")


PRIVATE_PATHS = ("/v1/admin", "/metrics", "/healthz", "/readyz")
"""Operators' and the cluster's paths: never routed by a public Ingress (see overlays/production)."""


def check_ingresses(overlay: str, objects: list[dict[str, Any]]) -> None:
    """Every Ingress path reaches a Service's named port and none of them opens a private path."""
    ports = {
        doc["metadata"]["name"]: {port.get("name") for port in doc["spec"]["ports"]}
        for doc in objects
        if doc["kind"] == "Service"
    }
    for ingress in (doc for doc in objects if doc["kind"] == "Ingress"):
        name = ingress["metadata"]["name"]
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                path, backend = entry["path"], entry["backend"]["service"]
                prefix = path.rstrip("/") + "/"
                opened = [private for private in PRIVATE_PATHS if (private + "/").startswith(prefix)]
                if opened:
                    fail(f"k8s {overlay}: Ingress {name} routes {path}, which opens {', '.join(opened)}")
                if backend["port"].get("name") not in ports.get(backend["name"], set()):
                    fail(f"k8s {overlay}: Ingress {name}: {path} reaches no port of {backend['name']}")


def check_settings_subset(
    where: str, service: Service, values: Mapping[str, str], keys: set[str]
) -> BaseSettings | None:
    """Like check_settings, but a ConfigMap need not document every setting (the env files do).
    Returns the settings as the service would read them, where they load."""
    cls = settings_class(service)
    if cls is None:
        print(f"skip {where}: {service.module}.settings is not installed")
        return None
    for key in sorted(keys):
        if key.removeprefix(service.env_prefix).lower() not in cls.model_fields:
            fail(f"{where}: {key} is not a setting of {cls.__name__}")
    with only_environment({**values, f"{service.env_prefix}VAR_DIR": scratch_var_dir()}):
        try:
            return cls()
        except Exception as exc:
            fail(f"{where}: {cls.__name__} rejects these values: {exc}")
            return None


def check_observability() -> None:
    rules = yaml.safe_load((DEPLOY / "observability" / "prometheus-rules.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert", "?")
            if not rule.get("expr") or "severity" not in rule.get("labels", {}):
                fail(f"prometheus-rules.yaml: {name} needs expr and a severity label")
            if "summary" not in rule.get("annotations", {}):
                fail(f"prometheus-rules.yaml: {name} needs a summary annotation")
    dashboard: dict[str, Any] = json.loads((DEPLOY / "observability" / "grafana-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        if not all(target.get("expr") for target in panel.get("targets", [])) or not panel.get("targets"):
            fail(f"grafana-dashboard.json: panel {panel.get('title')} has no query")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rendered", type=Path, help="folder of `kustomize build` outputs, one per overlay")
    args = parser.parse_args()
    check_compose_and_dockerfile()
    check_image_contents()
    if args.rendered:
        check_kubernetes(args.rendered)
    check_observability()
    if failures:
        print(f"{len(failures)} problem(s) in deploy/")
        return 1
    print("deploy cross-checks: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
