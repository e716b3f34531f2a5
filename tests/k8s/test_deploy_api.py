"""``samepack deploy`` / ``undeploy`` against a real API server (tests/k8s/controlplane.py):
server-side apply, dry-run, a Job's immutable pod template, the Job and namespace controllers.
Pods "finish" through FakeKubelet (no kubelet runs here)."""

from __future__ import annotations

import json

import pytest

from samepack.store import Store
from tests.k8s.kubelet import FakeKubelet
from tests.k8s.programs import pipeline, step_argv

pytestmark = pytest.mark.xdist_group("k8s-api")


def register(program, tmp_path) -> str:
    Store().register(program, tmp_path, str(tmp_path / "samepack.yaml"), force=True)
    return program.ref


def succeed(pod: dict):
    return (0, "")


def fail_prepare(pod: dict):
    return (1, "") if pod["metadata"]["name"].startswith("pipe-prepare") else (0, "")


@pytest.fixture
def deploy(samepack, kube, namespace, monkeypatch):
    """``deploy(ref, *options)`` into this test's namespace -> CliResult."""
    monkeypatch.setenv("STORAGE_KEY", "s3cr3t")

    def run(ref: str, *options: str, env: dict | None = None):
        return samepack("deploy", ref, "-n", namespace, *options, env=env)

    return run


def jobs(kube, namespace: str) -> dict[str, dict]:
    items = json.loads(kube.kubectl("-n", namespace, "get", "jobs", "-o", "json"))["items"]
    return {job["metadata"]["name"]: job for job in items}


def command_of(job: dict) -> list[str]:
    return step_argv(job["spec"]["template"]["spec"]["containers"][0])


def test_deploy_runs_the_steps_in_order_and_a_second_deploy_changes_nothing(deploy, kube, namespace,
                                                                            tmp_path):
    ref = register(pipeline(), tmp_path)
    with FakeKubelet(str(kube.kubeconfig()), namespace, succeed) as kubelet:
        first = deploy(ref, "--timeout", "60")
        assert first.exit_code == 0, first.stderr
        assert "waiting for Job pipe-prepare" in first.stderr
        assert {"pipe-prepare", "pipe-train"} <= set(jobs(kube, namespace))
        second = deploy(ref, "--timeout", "60")
    assert second.exit_code == 0, second.stderr
    assert "deployed pipe:1.0: 0 objects applied" in second.stdout, second.stderr
    assert kubelet.finished[0].startswith("pipe-prepare")
    secret = json.loads(kube.kubectl("-n", namespace, "get", "secret", "storage-key", "-o", "json"))
    assert "stringData" not in secret and secret["data"]["STORAGE_KEY"] == "czNjcjN0"


def test_new_version_replaces_changed_jobs_and_removes_what_it_no_longer_has(deploy, kube, namespace,
                                                                             tmp_path):
    old = register(pipeline(), tmp_path)
    new = register(pipeline("1.1", train="python train.py --alpha {params.alpha} --fast",
                             schedule=False), tmp_path)
    with FakeKubelet(str(kube.kubeconfig()), namespace, succeed):
        assert deploy(old, "--timeout", "60").exit_code == 0
        old_uid = jobs(kube, namespace)["pipe-train"]["metadata"]["uid"]
        result = deploy(new, "--timeout", "60")
    assert result.exit_code == 0, result.stderr
    assert "replaced Job/pipe-train" in result.stderr and "422" not in result.stderr
    train = jobs(kube, namespace)["pipe-train"]
    assert command_of(train)[-1] == "--fast" and train["metadata"]["uid"] != old_uid
    assert train["metadata"]["labels"]["app.kubernetes.io/version"] == "1.1"
    assert "removed CronJob/pipe-nightly" in result.stderr
    assert kube.kubectl("-n", namespace, "get", "cronjobs", "-o", "name") == ""
    configs = kube.kubectl("-n", namespace, "get", "configmaps", "-o", "name").split()
    assert "configmap/pipe-nightly-program" not in configs and "configmap/pipe-program" in configs


def test_keep_old_leaves_the_older_versions_objects(deploy, kube, namespace, tmp_path):
    old = register(pipeline(), tmp_path)
    new = register(pipeline("1.1", schedule=False), tmp_path)
    assert deploy(old, "--no-wait").exit_code == 0
    result = deploy(new, "--no-wait", "--keep-old")
    assert result.exit_code == 0, result.stderr
    assert kube.kubectl("-n", namespace, "get", "cronjobs", "-o", "name").strip() == "cronjob.batch/pipe-nightly"


def test_dry_run_shows_the_replacement_and_a_secret_that_would_be_missing(deploy, kube, namespace,
                                                                          tmp_path):
    from samepack.program.model import SecretRef

    old = register(pipeline(), tmp_path)
    with FakeKubelet(str(kube.kubeconfig()), namespace, succeed):
        assert deploy(old, "--timeout", "60").exit_code == 0
    new = register(pipeline("1.1", train="python train.py --epochs 3",
                            secrets=[SecretRef("storage-key", "STORAGE_KEY"),
                                     SecretRef("api-token", "API_TOKEN")]), tmp_path)
    before = jobs(kube, namespace)
    result = deploy(new, "--dry-run", env={"API_TOKEN": None})
    assert result.exit_code == 3, result.stderr
    assert "+++ applied/Job/pipe-train (replaced: deleted, then created again)" in result.stdout
    assert "-        - --alpha\n" in result.stdout and "+        - --epochs\n" in result.stdout
    assert "controller-uid" not in result.stdout  # what the Job controller adds is no change
    assert result.stderr.splitlines()[-2].startswith(
        "error: dry run: Secret/api-token: API_TOKEN is not set in this environment")
    assert "hint: export API_TOKEN=" in result.stderr
    after = jobs(kube, namespace)
    assert {n: j["metadata"]["uid"] for n, j in after.items()} == {
        n: j["metadata"]["uid"] for n, j in before.items()}  # nothing changed


def test_a_failed_step_is_run_again_by_a_plain_redeploy(deploy, kube, namespace, tmp_path):
    ref = register(pipeline(), tmp_path)
    with FakeKubelet(str(kube.kubeconfig()), namespace, fail_prepare):
        failed = deploy(ref, "--timeout", "60")
    assert failed.exit_code == 12, failed.stderr
    assert "error: Job pipe-prepare failed" in failed.stderr
    assert "samepack deploy again replaces the failed Job" in failed.stderr
    assert "pipe-train" not in jobs(kube, namespace)
    with FakeKubelet(str(kube.kubeconfig()), namespace, succeed):
        again = deploy(ref, "--timeout", "60")
    assert again.exit_code == 0, again.stderr
    assert "replaced Job/pipe-prepare" in again.stderr and "applied Job/pipe-train" in again.stderr


def test_timeout_says_what_holds_the_step_up(deploy, kube, namespace, tmp_path):
    ref = register(pipeline(), tmp_path)
    result = deploy(ref, "--timeout", "2")
    assert result.exit_code == 8, result.stderr
    line = result.stderr.splitlines()[-2]
    assert line.startswith("error: Job/pipe-prepare: no result after 2 s (pod pipe-prepare-")
    assert "Pending" in line and "--no-wait" in result.stderr


def test_no_wait_applies_what_can_start_and_a_later_deploy_goes_on(deploy, kube, namespace,
                                                                   tmp_path):
    ref = register(pipeline(), tmp_path)
    result = deploy(ref, "--no-wait")
    assert result.exit_code == 0, result.stderr
    assert "not yet applied Job/pipe-train: it needs prepare to complete first" in result.stderr
    assert "1 Jobs left for the next deploy" in result.stdout
    assert set(jobs(kube, namespace)) == {"pipe-prepare"}
    with FakeKubelet(str(kube.kubeconfig()), namespace, succeed):
        kube.kubectl("-n", namespace, "wait", "--for=condition=Complete", "job/pipe-prepare",
                     "--timeout=60s")
        later = deploy(ref, "--no-wait")
    assert later.exit_code == 0, later.stderr
    assert set(jobs(kube, namespace)) == {"pipe-prepare", "pipe-train"}


def test_undeploy_removes_by_labels_and_keeps_claims_unless_purged(deploy, samepack, kube,
                                                                   namespace, tmp_path):
    ref = register(pipeline(), tmp_path)
    assert deploy(ref, "--no-wait").exit_code == 0
    kube.kubectl("-n", namespace, "create", "configmap", "not-ours")
    removed = samepack("undeploy", "pipe", "-n", namespace)
    assert removed.exit_code == 0, removed.stderr
    names = kube.kubectl("-n", namespace, "get", "jobs,cronjobs,configmaps,secrets,pvc,sa",
                         "-o", "name").split()
    assert "persistentvolumeclaim/pipe-workspace" in names
    assert "configmap/not-ours" in names
    assert not [n for n in names if n.startswith(("job", "cronjob", "secret/storage", "configmap/pipe"))]
    purged = samepack("undeploy", "pipe:1.0", "-n", namespace, "--purge")
    assert purged.exit_code == 0, purged.stderr
    assert "removed PersistentVolumeClaim/pipe-workspace" in purged.stderr
    nothing = samepack("undeploy", "pipe", "-n", namespace)
    assert nothing.exit_code == 4 and "nothing of pipe is deployed" in nothing.stderr


def test_rbac_refusal_names_the_user_and_the_verb(deploy, kube, namespace, tmp_path, monkeypatch):
    ref = register(pipeline(), tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig("viewer")))
    result = deploy(ref, "--no-wait")
    assert result.exit_code == 8, result.stderr
    assert '403 Forbidden: nodes is forbidden: User "viewer" cannot list resource "nodes"' in result.stderr
    assert "hint: your account may not do this here" in result.stderr



def test_preflight_reads_readiness_cordons_and_taints_from_real_nodes(deploy, kube, tmp_path):
    from samepack.program.model import Resources

    program = pipeline(name="big")
    program.steps["train"].resources = Resources(cpu=16, memory="1Gi")
    ref = register(program, tmp_path)
    try:
        kube.add_node("big-notready", "32", "64Gi", ready=False)
        kube.add_node("big-cordoned", "32", "64Gi", unschedulable=True)
        kube.add_node("big-tainted", "32", "64Gi",
                      taints=[{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}])
        result = deploy(ref, "--dry-run")
        assert result.exit_code == 9, result.stderr
        assert result.stderr.startswith("error: step train: every node that could hold it has a "
                                        "taint it does not tolerate (big-tainted dedicated)")
        kube.kubectl("taint", "node", "big-tainted", "dedicated-")
        assert deploy(ref, "--dry-run").exit_code == 0
    finally:
        for name in ("big-notready", "big-cordoned", "big-tainted"):
            kube.kubectl("delete", "node", name, "--ignore-not-found")


def test_the_wine_bundle_deploys_with_its_local_data_set_carried(samepack, kube, fixture_project,
                                                                 tmp_path):
    import base64
    import hashlib

    project = fixture_project("wine-quality")
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    bundle = tmp_path / "wine.tgz"
    assert samepack("export", "program", "-n", "wine-quality:1.0", "-o", bundle).exit_code == 0
    result = samepack("import", bundle, "--cluster", "--force")
    assert result.exit_code == 0, result.stderr
    assert "no URI" not in result.stderr
    config = json.loads(kube.kubectl("-n", "wine-quality", "get", "configmap",
                                     "wine-quality-carry-wine", "-o", "json"))
    data = base64.b64decode(config["binaryData"]["winequality-red.csv"])
    assert hashlib.sha256(data).hexdigest() == (
        "072c45f862f214b766c660691a2df71ed6633047e5e2a7fa80aa253cecf3009e")
    job = jobs(kube, "wine-quality")["wine-quality-train"]
    spec = job["spec"]["template"]["spec"]
    fetch = next(c for c in spec["initContainers"] if c["name"] == "fetch-wine")
    assert fetch["command"][3] == "file:///etc/samepack-data/wine/winequality-red.csv"
    assert {"name": "carry-wine", "configMap": {"name": "wine-quality-carry-wine",
                                                "optional": True, "defaultMode": 420}} in spec["volumes"]
    assert "/datasets/wine/winequality-red.csv" in step_argv(spec["containers"][0])
    assert samepack("undeploy", "wine-quality", "--purge").exit_code == 0


def test_dry_run_into_a_new_namespace_creates_nothing_and_says_what_was_checked_where(
        deploy, kube, namespace, tmp_path):
    result = deploy(register(pipeline(), tmp_path), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert f"namespace {namespace} does not exist yet, so the server cannot dry-run" in result.stderr
    assert f"+++ applied/Namespace/{namespace}" in result.stdout
    assert "dry run: 9 to change, 0 unchanged" in result.stdout
    assert kube.kubectl("get", "namespace", namespace, check=False) == ""


def test_a_data_set_over_768_kib_is_deployed_through_the_registry_with_no_hand_work(
        samepack, kube, fixture_project, registry, tmp_path):
    import subprocess
    import sys

    from samepack.k8s.exchange.transfer import open_registry
    from tests.k8s.test_carry import bigger_wine

    project = fixture_project("wine-quality")
    sha = bigger_wine(project)
    assert samepack("create", "program", "-f", project / "samepack.yaml", "--force").exit_code == 0
    exchange = open_registry(f"oci://{registry.host}/wine/data")
    try:
        dry = samepack("deploy", "wine-quality:1.0", "-n", "wine-big", "--dry-run",
                       "--registry", exchange.reference)
        assert dry.exit_code == 0, dry.stderr
        assert exchange.registry.blob_size("wine/data", f"sha256:{sha}") is None  # nothing sent
        result = samepack("deploy", "wine-quality:1.0", "-n", "wine-big", "--no-wait",
                          "--registry", exchange.reference)
        assert exchange.registry.blob_size("wine/data", f"sha256:{sha}") == len(
            (project / "data" / "winequality-red.csv").read_bytes())
    finally:
        exchange.close()
    assert result.exit_code == 0, result.stderr
    assert "no URI" not in result.stderr and "ConfigMap can carry" not in result.stderr
    carried = kube.kubectl("-n", "wine-big", "get", "configmap", "wine-quality-carry-wine",
                           check=False)
    assert carried == ""  # too large for a ConfigMap: it went through the registry instead
    spec = jobs(kube, "wine-big")["wine-quality-train"]["spec"]["template"]["spec"]
    command = next(c for c in spec["initContainers"] if c["name"] == "fetch-wine")["command"]
    url = f"http://{registry.host}/v2/wine/data/blobs/sha256:{sha}"
    assert command[3:] == [url, "/datasets/wine/winequality-red.csv", sha]
    # what a kubelet would run in the init container, run here (the claim is a folder)
    claim = tmp_path / "claim"
    claim.mkdir()
    argv = [sys.executable, *command[1:4], str(claim / "winequality-red.csv"), command[5]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (claim / "winequality-red.csv").read_bytes() == (
        project / "data" / "winequality-red.csv").read_bytes()
    assert samepack("undeploy", "wine-quality", "-n", "wine-big", "--purge").exit_code == 0


def test_deploy_json_is_one_document_of_what_changed(deploy, kube, namespace, tmp_path):
    ref = register(pipeline(), tmp_path)
    dry = deploy(ref, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["ok"] is True and planned["dry_run"] is True and planned["program"] == ref
    assert planned["diffs"] and not jobs(kube, namespace)
    with FakeKubelet(str(kube.kubeconfig()), namespace, succeed):
        done = deploy(ref, "--timeout", "60", "--json")
    assert done.exit_code == 0, done.stderr
    applied = json.loads(done.stdout)
    assert applied["dry_run"] is False and "Job/pipe-train" in " ".join(applied["applied"])
    assert {"pipe-prepare", "pipe-train"} <= set(jobs(kube, namespace))


def test_import_cluster_takes_the_registry_namespace_and_context_deploy_takes(
        samepack, kube, fixture_project, registry, tmp_path, monkeypatch):
    """A bundle whose data set is too large for a ConfigMap, imported onto the cluster with
    --registry (no environment variable), into another namespace, through a named context."""
    from tests.k8s.test_carry import bigger_wine

    monkeypatch.delenv("SAMEPACK_K8S_REGISTRY", raising=False)
    project = fixture_project("wine-quality")
    sha = bigger_wine(project)
    assert samepack("create", "program", "-f", project / "samepack.yaml", "--force").exit_code == 0
    bundle = tmp_path / "wine.tgz"
    exported = samepack("export", "program", "-n", "wine-quality:1.0", "-o", bundle,
                        "--include-data")
    assert exported.exit_code == 0, exported.stderr
    misplaced = samepack("import", bundle, "--registry", f"oci://{registry.host}/wine/data")
    assert misplaced.exit_code == 2 and "applies to import --cluster only" in misplaced.stderr
    malformed = samepack("import", bundle, "--cluster", "--registry",
                         f"oci://{registry.host}/wine/data:1.0")
    assert malformed.exit_code != 0 and "names a version" in malformed.stderr

    result = samepack("import", bundle, "--cluster", "--force",
                      "-n", "wine-imported", "--context", "local",
                      "--registry", f"oci://{registry.host}/wine/data", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["deploy"]["applied"]
    spec = jobs(kube, "wine-imported")["wine-quality-train"]["spec"]["template"]["spec"]
    command = next(c for c in spec["initContainers"] if c["name"] == "fetch-wine")["command"]
    assert command[3] == f"http://{registry.host}/v2/wine/data/blobs/sha256:{sha}"
    assert samepack("undeploy", "wine-quality", "-n", "wine-imported", "--purge").exit_code == 0
