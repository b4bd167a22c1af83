"""deploy/kubernetes/: each variant, rendered as `kubectl apply -k` would
render it, validates against Kubernetes' OpenAPI schemas (and the
Prometheus Operator's, for the ServiceMonitor), names only settings the
binary has, fits together (ports, selectors, probes, drain), and starts the
real binary with its settings."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1 as prometheus_v1
from kubernetes_validate.utils import all_versions

from conftest import ROOT, Sessiond, sessiond_bin

KUBERNETES = ROOT / "deploy" / "kubernetes"
VARIANTS = ["in-memory", "persistent", "redis"]
# The variants whose pod holds the sessions: one replica each.
SINGLE = ["in-memory", "persistent"]
COMPONENT_LINES = ("# components:", "#   - ../components/servicemonitor")
# Every version kubernetes-validate ships from 1.27 on: the gRPC probe is GA
# there, and PodDisruptionBudget's unhealthyPodEvictionPolicy exists.
OLDEST = (1, 27)


def kubernetes_versions() -> list[str]:
    versions = []
    for version in all_versions():
        major, minor = (int(part) for part in version.split(".")[:2])
        if (major, minor) >= OLDEST and version not in versions:
            versions.append(version)
    assert len(versions) >= 5, versions
    return versions


def kustomize() -> str:
    """The pinned kustomize scripts/test-deploy.sh installs (from npm)."""
    path = os.environ.get("KUSTOMIZE")
    if not path:
        raise RuntimeError("KUSTOMIZE is unset: run the tests through scripts/test-deploy.sh")
    return path


def render(directory: Path) -> list[dict]:
    out = subprocess.run(
        [kustomize(), "build", str(directory)], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def with_servicemonitor(variant: str, scratch: Path) -> Path:
    """The variant with its kustomization's commented `components:` lines
    uncommented, exactly as its comment tells the reader to do."""
    tree = scratch / "kubernetes"
    if not tree.exists():
        shutil.copytree(KUBERNETES, tree)
    kustomization = tree / variant / "kustomization.yaml"
    text = kustomization.read_text()
    for line in COMPONENT_LINES:
        assert line in text, f"{variant}/kustomization.yaml lost the line {line!r}"
        text = text.replace(line, line.removeprefix("# "))
    kustomization.write_text(text)
    return tree / variant


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    scratch = tmp_path_factory.mktemp("kustomize")
    out = {}
    for variant in VARIANTS:
        out[variant] = render(KUBERNETES / variant)
        out[f"{variant}+servicemonitor"] = render(with_servicemonitor(variant, scratch))
    return out


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in of_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def workload(docs: list[dict]) -> dict:
    found = of_kind(docs, "Deployment") + of_kind(docs, "StatefulSet")
    assert len(found) == 1, [d["kind"] for d in found]
    return found[0]


def container(docs: list[dict]) -> dict:
    containers = workload(docs)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["sessiond"]
    return containers[0]


def settings(docs: list[dict]) -> dict[str, str]:
    """The container's environment: its envFrom ConfigMaps, then env."""
    c = container(docs)
    env: dict[str, str] = {}
    for source in c.get("envFrom", []):
        name = source["configMapRef"]["name"]
        env.update(one(docs, "ConfigMap", name)["data"])
    for item in c.get("env", []):
        env[item["name"]] = item["value"]
    return env


def seconds(duration: str) -> float:
    """A humantime duration as the manifests write them (`10s`, `2m`)."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", duration)
    assert match, f"not a simple duration: {duration}"
    return int(match[1]) * units[match[2]]


def quantity(text: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", text)
    assert match, f"not a binary quantity: {text}"
    return int(match[1]) * units[match[2]]


def help_names() -> tuple[set[str], set[str]]:
    """The flags and environment variables `sessiond --help` documents."""
    text = subprocess.run(
        [sessiond_bin(), "--help"], check=True, capture_output=True, text=True
    ).stdout
    flags = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", text, re.M))
    # `[env: NAME=value]`, or `[env: NAME]` where the value is hidden.
    envs = set(re.findall(r"\[env: ([A-Z0-9_]+)[=\]]", text))
    assert "--drain-delay" in flags and "SESSIOND_DRAIN_DELAY" in envs, (flags, envs)
    return flags, envs


def test_every_object_validates_against_the_kubernetes_schemas(rendered):
    versions = kubernetes_versions()
    checked = 0
    for docs in rendered.values():
        for doc in docs:
            if doc["kind"] == "ServiceMonitor":
                continue
            for version in versions:
                kubernetes_validate.validate(doc, version, strict=True)
                checked += 1
    objects = sum(len(docs) for docs in rendered.values())
    print(f"{checked} validations: {objects} objects of {len(rendered)} renderings", end=" ")
    print(f"x Kubernetes {versions[0]}..{versions[-1]}")
    kinds = {doc["kind"] for docs in rendered.values() for doc in docs}
    assert {
        "Deployment",
        "StatefulSet",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ConfigMap",
    } <= kinds


def unknown_fields(given, parsed, path="") -> list[str]:
    """Fields of `given` that the model dropped: the strict check the
    Kubernetes API server applies to custom resources."""
    if isinstance(given, dict):
        out = []
        for key, value in given.items():
            if not isinstance(parsed, dict) or key not in parsed:
                out.append(f"{path}/{key}")
            else:
                out += unknown_fields(value, parsed[key], f"{path}/{key}")
        return out
    if isinstance(given, list):
        return [
            f
            for i, (a, b) in enumerate(zip(given, parsed, strict=True))
            for f in unknown_fields(a, b, f"{path}/{i}")
        ]
    return []


def test_the_servicemonitor_validates_against_the_prometheus_operator_schema(rendered):
    for variant in VARIANTS:
        docs = rendered[f"{variant}+servicemonitor"]
        monitor = one(docs, "ServiceMonitor")
        parsed = prometheus_v1.ServiceMonitor.model_validate(monitor)
        dumped = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert unknown_fields(monitor, dumped) == [], variant
        assert monitor["metadata"]["namespace"] == "sessiond"
        # It scrapes the admin Service, by a port that Service has.
        admin = one(docs, "Service", "sessiond-admin")
        labels = admin["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
        matched = [
            s
            for s in of_kind(docs, "Service")
            if monitor["spec"]["selector"]["matchLabels"].items()
            <= s["metadata"].get("labels", {}).items()
        ]
        assert [s["metadata"]["name"] for s in matched] == ["sessiond-admin"]
        ports = {p["name"] for p in admin["spec"]["ports"]}
        assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["admin"] and "admin" in ports
        assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    # Without the component, nothing needs the Prometheus Operator.
    for variant in VARIANTS:
        assert of_kind(rendered[variant], "ServiceMonitor") == []


def test_the_manifests_name_only_flags_and_variables_sessiond_has(rendered):
    flags, envs = help_names()
    for variant, docs in rendered.items():
        used = set(settings(docs))
        for cm in of_kind(docs, "ConfigMap"):
            used |= set(cm["data"])
        assert used - envs == set(), f"{variant}: not in sessiond --help: {sorted(used - envs)}"
        c = container(docs)
        args = [a for a in c.get("args", []) + c.get("command", []) if a.startswith("--")]
        named = {a.split("=", 1)[0] for a in args}
        assert named - flags == set(), f"{variant}: not in sessiond --help: {sorted(named - flags)}"
    # The text too, comments included: every SESSIOND_* name and --flag.
    for path in sorted(KUBERNETES.rglob("*")):
        if path.is_file():
            text = path.read_text()
            mentioned_env = set(re.findall(r"\bSESSIOND_[A-Z0-9_]*[A-Z0-9]", text))
            mentioned_flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))
            assert mentioned_env - envs == set(), f"{path}: {sorted(mentioned_env - envs)}"
            assert mentioned_flags - flags == set(), f"{path}: {sorted(mentioned_flags - flags)}"


def test_the_pod_runs_as_the_images_non_root_user_on_a_read_only_root(rendered):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER nonroot:nonroot" in dockerfile and "65532 is distroless's" in dockerfile
    for variant, docs in rendered.items():
        pod = workload(docs)["spec"]["template"]["spec"]
        c = container(docs)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 65532
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert c["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }, variant
        namespace = one(docs, "Namespace")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        # Every object lands in that namespace.
        for doc in docs:
            if doc["kind"] != "Namespace":
                assert doc["metadata"]["namespace"] == namespace["metadata"]["name"], doc["kind"]


def test_the_single_replica_variants_differ_only_in_the_data_directory(rendered):
    def pod(variant: str) -> dict:
        spec = yaml.safe_load(yaml.safe_dump(workload(rendered[variant])["spec"]["template"]))
        c = spec["spec"]["containers"][0]
        c["env"] = [e for e in c["env"] if e["name"] != "SESSIOND_DATA_DIR"]
        c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != "data"]
        return spec

    assert pod("in-memory") == pod("persistent")
    memory = rendered["in-memory"]
    persistent = rendered["persistent"]
    assert workload(memory)["kind"] == "Deployment"
    assert settings(memory)["SESSIOND_DATA_DIR"] == ""
    assert all(m["mountPath"] != "/var/lib/sessiond" for m in container(memory)["volumeMounts"])
    stateful = workload(persistent)
    assert stateful["kind"] == "StatefulSet"
    data_dir = settings(persistent)["SESSIOND_DATA_DIR"]
    mounts = {m["name"]: m["mountPath"] for m in container(persistent)["volumeMounts"]}
    assert mounts["data"] == data_dir
    [claim] = stateful["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    headless = one(persistent, "Service", stateful["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    # One replica each: the in-memory store is not shared between pods.
    for variant in SINGLE:
        assert workload(rendered[variant])["spec"]["replicas"] == 1


def test_the_redis_variant_is_the_in_memory_pod_with_the_redis_backend(rendered):
    def pod(variant: str) -> dict:
        spec = yaml.safe_load(yaml.safe_dump(workload(rendered[variant])["spec"]["template"]))
        spec["spec"].pop("topologySpreadConstraints", None)
        spec["spec"]["volumes"] = [v for v in spec["spec"]["volumes"] if v["name"] == "tokens"]
        c = spec["spec"]["containers"][0]
        c["env"] = [e for e in c["env"] if e["name"] != "SESSIOND_MAX_SESSIONS"]
        # The ConfigMap's name hashes its contents, which differ.
        [source] = c.pop("envFrom")
        assert source["configMapRef"]["name"].startswith("sessiond-")
        c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] == "tokens"]
        c.pop("resources")
        return spec

    assert pod("redis") == pod("in-memory")
    docs = rendered["redis"]
    deployment = workload(docs)
    assert deployment["kind"] == "Deployment"
    replicas = deployment["spec"]["replicas"]
    assert replicas >= 2
    # A rollout adds a pod before it drains one.
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    env = settings(docs)
    assert env["SESSIOND_BACKEND"] == "redis"
    assert env["SESSIOND_REDIS_URL"].startswith("redis://")
    assert "@" not in env["SESSIOND_REDIS_URL"], "the password is the file, never the URL"
    # No memory-only setting: sessiond refuses each with --backend redis.
    assert env["SESSIOND_DATA_DIR"] == ""
    refused = ["MAX_SESSIONS", "MAX_SESSIONS_PER_NAMESPACE", "FSYNC", "ACCEPT_DATA_LOSS"]
    refused += ["SNAPSHOT_INTERVAL", "SNAPSHOT_LOG_BYTES"]
    assert [name for name in refused if f"SESSIOND_{name}" in env] == []
    # The password: a Secret mounted as a file, where the setting points.
    c = container(docs)
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mount = next(m for m in c["volumeMounts"] if m["name"] == "redis-password")
    assert volumes["redis-password"]["secret"]["secretName"] == "sessiond-redis"
    assert mount["readOnly"] is True
    assert env["SESSIOND_REDIS_PASSWORD_FILE"] == f"{mount['mountPath']}/password"
    # Evictions one at a time, and never all replicas.
    budget = one(docs, "PodDisruptionBudget")["spec"]
    assert "minAvailable" not in budget and budget["maxUnavailable"] == 1 < replicas
    # Out of the pod: Redis's port and DNS, nothing else.
    egress = one(docs, "NetworkPolicy")["spec"]["egress"]
    ports = sorted((p["port"], p["protocol"]) for rule in egress for p in rule["ports"])
    assert ports == [(53, "TCP"), (53, "UDP"), (6379, "TCP")]
    assert all(set(rule) == {"ports"} for rule in egress)
    # A headless Service for gRPC clients that balance calls over the pods.
    pods = one(docs, "Service", "sessiond-grpc-pods")
    assert pods["spec"]["clusterIP"] == "None"
    assert [p["targetPort"] for p in pods["spec"]["ports"]] == ["grpc"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pods["spec"]["selector"].items() <= pod_labels.items()


def test_each_listener_has_a_service_and_probes_and_policy_use_real_ports(rendered):
    for variant, docs in rendered.items():
        c = container(docs)
        env = settings(docs)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        for name, variable in [
            ("grpc", "SESSIOND_GRPC_ADDR"),
            ("http", "SESSIOND_HTTP_ADDR"),
            ("admin", "SESSIOND_ADMIN_ADDR"),
        ]:
            assert env[variable] == f"0.0.0.0:{ports[name]}", (variant, variable)
        pod_labels = workload(docs)["spec"]["template"]["metadata"]["labels"]
        assert workload(docs)["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        for name in ["grpc", "http", "admin"]:
            service = one(docs, "Service", f"sessiond-{name}")
            assert service["spec"]["selector"].items() <= pod_labels.items()
            assert [p["targetPort"] for p in service["spec"]["ports"]] == [name]
        # Kubernetes' gRPC probe takes a number: the gRPC port's.
        assert c["startupProbe"]["grpc"]["port"] == ports["grpc"]
        assert c["readinessProbe"]["grpc"] == {
            "port": ports["grpc"],
            "service": "sessiond.v1.SessionService",
        }
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}
        policy = one(docs, "NetworkPolicy")
        assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
        assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
        if not variant.startswith("redis"):
            assert policy["spec"]["egress"] == []
        by_port = {}
        for rule in policy["spec"]["ingress"]:
            for port in rule["ports"]:
                assert port["port"] in ports, port
                by_port[port["port"]] = rule["from"]
        assert (
            by_port["grpc"]
            == by_port["http"]
            == [
                {
                    "namespaceSelector": {},
                    "podSelector": {"matchLabels": {"sessiond-client": "true"}},
                }
            ]
        )
        assert by_port["admin"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ]
        budget = one(docs, "PodDisruptionBudget")
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        if not variant.startswith("redis"):
            assert budget["spec"]["minAvailable"] == 1
        # The tokens: a Secret mounted as a file, where SESSIOND_TOKENS_FILE points.
        volumes = {v["name"]: v for v in workload(docs)["spec"]["template"]["spec"]["volumes"]}
        mount = next(m for m in c["volumeMounts"] if m["name"] == "tokens")
        assert volumes["tokens"]["secret"]["secretName"] == "sessiond-tokens"
        assert mount["readOnly"] is True
        assert env["SESSIOND_TOKENS_FILE"] == f"{mount['mountPath']}/tokens"


def test_the_grace_period_covers_the_drain(rendered):
    for variant, docs in rendered.items():
        env = settings(docs)
        pod = workload(docs)["spec"]["template"]["spec"]
        hook = container(docs).get("lifecycle", {}).get("preStop", {})
        pre_stop = hook.get("sleep", {}).get("seconds", 0)
        assert set(hook) <= {"sleep"}, "the image has no shell: only a sleep hook can run"
        drain = seconds(env["SESSIOND_DRAIN_DELAY"]) + seconds(env["SESSIOND_SHUTDOWN_GRACE"])
        # Room for the final snapshot after the grace period.
        assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + 5, variant
        assert seconds(env["SESSIOND_DRAIN_DELAY"]) >= 5, "endpoint removal takes seconds to spread"


def test_memory_is_sized_from_the_benchmarks_memory_row(rendered):
    benchmarks = (ROOT / "BENCHMARKS.md").read_text()
    row = re.search(
        r"^\| 5 \| memory per session.*?sessiond (\d+) B/session \(RSS\)", benchmarks, re.M
    )
    assert row, "BENCHMARKS.md's row 5 (memory per session) is not where this test reads it"
    per_session = int(row[1])
    for variant, docs in rendered.items():
        resources = container(docs)["resources"]
        limit = quantity(resources["limits"]["memory"])
        assert quantity(resources["requests"]["memory"]) == limit, (
            "request = limit: never reclaimed"
        )
        assert "cpu" in resources["requests"] and "cpu" not in resources.get("limits", {})
        if variant.startswith("redis"):
            # No session in the pod: the run below measures its RSS.
            assert "SESSIOND_MAX_SESSIONS" not in settings(docs)
            continue
        sessions = int(settings(docs)["SESSIOND_MAX_SESSIONS"])
        # The measured sessions hold 100 B; leave room for four times that.
        assert limit >= 4 * sessions * per_session, (variant, limit, sessions * per_session)
        assert "cpu" in resources["requests"] and "cpu" not in resources.get("limits", {})


def health_check(target: str, service: str) -> int:
    """grpc.health.v1.Health/Check, encoded by hand: the status number."""
    name = service.encode()
    request = (b"\x0a" + bytes([len(name)]) + name) if name else b""
    with grpc.insecure_channel(target) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        reply = check(request, timeout=5)
    assert reply[:1] == b"\x08", reply
    return reply[1]


def readyz(admin: tuple[str, int]) -> int:
    try:
        with urllib.request.urlopen(f"http://{admin[0]}:{admin[1]}/readyz", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_with_password(tmp_path) -> Iterator[tuple[str, str]]:
    """A redis-server on a free loopback port that requires a password:
    (its redis:// URL, the password)."""
    exe = shutil.which(os.environ.get("REDIS_SERVER", "redis-server"))
    assert exe, "the redis variant's test needs redis-server (apt-get install redis-server)"
    password = "k8s-redis-s3cret"
    port = free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--requirepass", password, "--loglevel", "warning"]
    process = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not listen"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}", password
    finally:
        process.kill()
        process.wait()


def tokens_file(directory: Path) -> str:
    """The tokens Secret's file, one line made by `sessiond hash-token`."""
    line = subprocess.run(
        [sessiond_bin(), "hash-token", "shop"],
        input="s3cret-token\n",
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (directory / "tokens").write_text(line)
    return str(directory / "tokens")


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)[1]) * 1024


def gateway(addr: tuple[str, int], method: str, body: bytes | None, cookie: str | None):
    headers = {"content-type": "application/json"}
    if cookie:
        headers["cookie"] = cookie
    request = urllib.request.Request(
        f"http://{addr[0]}:{addr[1]}/session", data=body, method=method, headers=headers
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.headers, response.read()


def test_two_replicas_with_the_redis_variants_settings_share_a_session(
    rendered, redis_with_password, tmp_path
):
    docs = rendered["redis"]
    env = settings(docs)
    url, password = redis_with_password
    (tmp_path / "password").write_text(password + "\n")
    env["SESSIOND_REDIS_URL"] = url
    env["SESSIOND_REDIS_PASSWORD_FILE"] = str(tmp_path / "password")
    env["SESSIOND_TOKENS_FILE"] = tokens_file(tmp_path)
    for variable in ["SESSIOND_GRPC_ADDR", "SESSIOND_HTTP_ADDR", "SESSIOND_ADMIN_ADDR"]:
        env[variable] = "127.0.0.1:0"
    a = Sessiond(env=env, loopback=False)
    b = Sessiond(env=env, loopback=False)
    try:
        status, headers, _ = gateway(a.http, "POST", b'{"theme":"dark"}', None)
        assert status == 201
        cookie = headers["set-cookie"].split(";", 1)[0]
        status, _, body = gateway(b.http, "GET", None, cookie)
        assert status == 200 and b'"theme":"dark"' in body, body
        # No session lives in the pod: once its buffers are warm (100
        # sessions), 600 more of 32 kB (18 MiB, which an in-memory pod would
        # hold) move its memory by a small part of that (measured: under
        # 0.3 MiB, where the first 100 take ~4 MiB of buffers and caches),
        # and what it uses at rest is a small part of its limit (the debug
        # binary's own pages are ~32 MiB of it; the release build the image
        # runs, about a third of that).
        blob = b'{"blob":"' + b"x" * 32_000 + b'"}'

        def create(n: int) -> None:
            for _ in range(n):
                status, _, _ = gateway(a.http, "POST", blob, None)
                assert status == 201

        create(100)
        before = rss_bytes(a.process.pid)
        create(600)
        grown = rss_bytes(a.process.pid) - before
        assert grown < 600 * 32_000 / 8, f"RSS grew {grown} bytes for sessions held in Redis"
        limit = quantity(container(docs)["resources"]["limits"]["memory"])
        for server in (a, b):
            assert rss_bytes(server.process.pid) < limit / 4
            assert readyz(server.admin) == 200
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("variant", VARIANTS)
def test_sessiond_runs_and_drains_with_the_manifests_settings(rendered, variant, tmp_path, request):
    docs = rendered[variant]
    env = settings(docs)
    if env.get("SESSIOND_BACKEND") == "redis":
        url, password = request.getfixturevalue("redis_with_password")
        (tmp_path / "password").write_text(password + "\n")
        env["SESSIOND_REDIS_URL"] = url
        env["SESSIOND_REDIS_PASSWORD_FILE"] = str(tmp_path / "password")
    # What the pod's volumes would hold, on this machine: a tokens file
    # made by the binary, and an empty data directory.
    env["SESSIOND_TOKENS_FILE"] = tokens_file(tmp_path)
    if env["SESSIOND_DATA_DIR"]:
        env["SESSIOND_DATA_DIR"] = str(tmp_path / "data")
        (tmp_path / "data").mkdir()
    # Loopback ports the kernel picks, instead of 0.0.0.0 and fixed ports.
    for variable in ["SESSIOND_GRPC_ADDR", "SESSIOND_HTTP_ADDR", "SESSIOND_ADMIN_ADDR"]:
        env[variable] = "127.0.0.1:0"
    server = Sessiond(env=env, loopback=False)
    try:
        c = container(docs)
        serving = 1
        assert health_check(server.grpc, "") == serving  # the startup probe
        assert health_check(server.grpc, c["readinessProbe"]["grpc"]["service"]) == serving
        assert readyz(server.admin) == 200
        grace = workload(docs)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        started = time.monotonic()
        server.terminate()
        time.sleep(1)
        assert readyz(server.admin) == 503, "not ready while draining"
        assert health_check(server.grpc, c["readinessProbe"]["grpc"]["service"]) != serving
        assert server.wait(grace) == 0
        took = time.monotonic() - started
        assert seconds(env["SESSIOND_DRAIN_DELAY"]) <= took < grace, took
    finally:
        server.close()
