"""deploy/check.py refuses a production overlay that runs any demo part or lets services create topics."""

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml

CHECK = Path(__file__).resolve().parents[2] / "deploy" / "check.py"


@pytest.fixture
def check() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("deploy_check", CHECK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_check"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("deploy_check", None)


SAFE_KAFKA = {
    "OZG_ZUFI_TOPIC_AUTO_CREATE": "false",
    "OZG_ZUFI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "OZG_ZUFI_KAFKA_SASL_USERNAME": "ozg-zufi",
    "OZG_ZUFI_KAFKA_SASL_PASSWORD": "a-real-secret-from-the-store",
}


def _deployment(name: str, port: int) -> dict[str, object]:
    probe = {"httpGet": {"path": "/readyz"}}
    container = {
        "ports": [{"containerPort": port}],
        "livenessProbe": {"httpGet": {"path": "/healthz"}},
        "readinessProbe": probe,
        "envFrom": [{"configMapRef": {"name": name}}],
    }
    return {
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


def _render(folder: Path, overlay: str, zufi_config: dict[str, str], *extra: dict[str, object]) -> Path:
    """The overlay with zufi's config as given; topic creation off and Kafka over SASL_SSL unless it
    says otherwise."""
    objects = [
        {
            "kind": "ConfigMap",
            "metadata": {"name": "zufi"},
            "data": SAFE_KAFKA | zufi_config,
        },
        _deployment("zufi", 8001),
        *extra,
    ]
    folder.mkdir(exist_ok=True)
    (folder / f"{overlay}.yaml").write_text(yaml.safe_dump_all(objects))
    return folder


def test_production_with_the_demo_seed_on_fails(check: ModuleType, tmp_path: Path) -> None:
    check.check_kubernetes(_render(tmp_path / "on", "production", {"OZG_ZUFI_SEED_DEMO": "true"}))
    assert check.failures == ["k8s production zufi: OZG_ZUFI_SEED_DEMO is True; production needs False"]


def test_production_with_the_demo_seed_left_at_its_default_fails(check: ModuleType, tmp_path: Path) -> None:
    check.check_kubernetes(_render(tmp_path / "default", "production", {}))
    assert check.failures == ["k8s production zufi: OZG_ZUFI_SEED_DEMO is True; production needs False"]


def test_production_with_a_demo_receiver_fails(check: ModuleType, tmp_path: Path) -> None:
    receiver = _deployment("demo-receiver", 8009)
    config = {"kind": "ConfigMap", "metadata": {"name": "demo-receiver"}, "data": {}}
    check.check_kubernetes(
        _render(tmp_path / "receiver", "production", {"OZG_ZUFI_SEED_DEMO": "false"}, config, receiver)
    )
    assert any("demo-receiver is a demo part" in failure for failure in check.failures)


def test_demo_parts_are_fine_outside_production(check: ModuleType, tmp_path: Path) -> None:
    check.check_kubernetes(_render(tmp_path / "demo", "demo", {"OZG_ZUFI_SEED_DEMO": "true"}))
    check.check_kubernetes(_render(tmp_path / "prod", "production", {"OZG_ZUFI_SEED_DEMO": "false"}))
    assert check.failures == []


def test_production_letting_services_create_topics_fails(check: ModuleType, tmp_path: Path) -> None:
    check.check_kubernetes(
        _render(
            tmp_path / "topics",
            "production",
            {"OZG_ZUFI_SEED_DEMO": "false", "OZG_ZUFI_TOPIC_AUTO_CREATE": "true"},
        )
    )
    assert check.failures == [
        "k8s production zufi: OZG_ZUFI_TOPIC_AUTO_CREATE is True; production needs False"
    ]


def test_services_create_topics_outside_production(check: ModuleType, tmp_path: Path) -> None:
    check.check_kubernetes(_render(tmp_path / "dev", "dev", {"OZG_ZUFI_TOPIC_AUTO_CREATE": "true"}))
    assert check.failures == []


def test_production_with_plaintext_kafka_fails(check: ModuleType, tmp_path: Path) -> None:
    plain = {"OZG_ZUFI_SEED_DEMO": "false", "OZG_ZUFI_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    check.check_kubernetes(_render(tmp_path / "plain", "production", plain))
    assert check.failures == [
        "k8s production zufi: OZG_ZUFI_KAFKA_SECURITY_PROTOCOL is PLAINTEXT; production needs SASL_SSL"
    ]
