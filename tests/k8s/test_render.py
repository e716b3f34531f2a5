"""Rendering of Kubernetes objects: golden files, strict validation, names, parameters."""

from __future__ import annotations

import copy

import pytest

from samepack.errors import InputError, VerificationError
from samepack.k8s import render_manifests, validate_manifests
from samepack.k8s.api.dump import dump_manifests, load_manifests
from samepack.k8s.objects.names import dns_name, label_value
from samepack.k8s.api.validate import supported_versions
from tests.k8s.golden import assert_golden
from tests.k8s.programs import single_step, step_argv, wine_quality

VERSIONS = ["1.30", supported_versions()[-1]]


def _by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def test_wine_quality_manifests_match_golden_file():
    objects = render_manifests(wine_quality(), image="registry.example/wine@sha256:" + "a" * 64)
    assert_golden("k8s/wine-quality.yaml", dump_manifests(objects))


def test_single_step_run_manifests_match_golden_file():
    objects = render_manifests(single_step(), image=None, namespace="team-a",
                               params=None, run_id="r20260101")
    assert_golden("k8s/hello-world-run.yaml", dump_manifests(objects))


def test_rendering_is_deterministic_and_round_trips_through_yaml():
    first = dump_manifests(render_manifests(wine_quality(), image="img:1"))
    second = dump_manifests(render_manifests(wine_quality(), image="img:1"))
    assert first == second
    assert load_manifests(first) == render_manifests(wine_quality(), image="img:1")
    assert "&id" not in first and "*id" not in first  # no YAML aliases between objects


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("make", [wine_quality, single_step])
def test_every_object_validates_strictly(make, version):
    validate_manifests(render_manifests(make(), image="img:1"), kubernetes_version=version)
    validate_manifests(render_manifests(make(), image="img:1", run_id="abc"), version)


def test_objects_are_in_apply_order_with_jobs_in_dependency_order():
    kinds = [obj["kind"] for obj in render_manifests(wine_quality(), image="img:1")]
    assert kinds == ["Namespace", "ServiceAccount", "ConfigMap", "ConfigMap", "PersistentVolumeClaim",
                     "PersistentVolumeClaim", "Job", "Job", "CronJob"]
    jobs = _by_kind(render_manifests(wine_quality(), image="img:1"), "Job")
    assert [job["metadata"]["name"] for job in jobs] == ["wine-quality-prepare", "wine-quality-train"]
    assert jobs[1]["metadata"]["annotations"] == {"samepack.dev/needs": "prepare"}


def test_every_object_carries_the_standard_labels_and_namespace():
    for obj in render_manifests(wine_quality(), image="img:1", namespace="ml"):
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "samepack"
        assert labels["app.kubernetes.io/name"] == "wine-quality"
        assert labels["app.kubernetes.io/version"] == "1.0"
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "ml"


def test_parameter_overrides_flow_into_commands_and_config_map():
    objects = render_manifests(wine_quality(), image="img:1", params={"epochs": "3"})
    train = _by_kind(objects, "Job")[1]["spec"]["template"]["spec"]["containers"][0]
    assert step_argv(train) == ["python", "train.py", "--epochs", "3", "--alpha", "0.5"]
    config = _by_kind(objects, "ConfigMap")[0]["data"]["params.json"]
    assert '"epochs": 3' in config
    cron = _by_kind(objects, "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert step_argv(cron["containers"][0])[3] == "5"  # the schedule's own value wins


@pytest.mark.parametrize("params", [None, {"alpha": "0.3"}])
def test_a_schedules_command_and_its_mounted_params_agree(params):
    import json

    objects = render_manifests(wine_quality(), image="img:1", params=params)
    configs = {c["metadata"]["name"]: json.loads(c["data"]["params.json"])
               for c in _by_kind(objects, "ConfigMap")}
    cron = _by_kind(objects, "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    mounted = configs[next(v["configMap"]["name"] for v in cron["volumes"] if "configMap" in v)]
    command = step_argv(cron["containers"][0])
    assert float(command[command.index("--alpha") + 1]) == mounted["alpha"]
    assert int(command[command.index("--epochs") + 1]) == mounted["epochs"] == 5


def test_data_sets_env_and_secrets_are_resolved_for_the_pod():
    job = _by_kind(render_manifests(wine_quality(), image="img:1"), "Job")
    prepare = job[0]["spec"]["template"]["spec"]["containers"][0]
    assert step_argv(prepare)[3] == "/datasets/wine/wine.csv"
    train = job[1]["spec"]["template"]["spec"]["containers"][0]
    env = {entry["name"]: entry for entry in train["env"]}
    assert env["MODEL_DIR"]["value"] == "$(HOME)/models"
    assert env["STORAGE_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "storage-key",
                                                               "key": "STORAGE_KEY"}
    assert not _by_kind(render_manifests(wine_quality(), image="img:1"), "Secret")


def test_gpu_step_gets_limits_tolerations_and_gpu_memory_affinity():
    train = _by_kind(render_manifests(wine_quality(), image="img:1"), "Job")[1]
    spec = train["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert spec["tolerations"][0]["key"] == "nvidia.com/gpu"
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"][0]["matchExpressions"][0] == {
        "key": "nvidia.com/gpu.memory", "operator": "Gt", "values": ["24575"]}
    prepare = _by_kind(render_manifests(wine_quality(), image="img:1"), "Job")[0]
    assert "tolerations" not in prepare["spec"]["template"]["spec"]


def test_pods_run_as_non_root_and_never_restart():
    for job in _by_kind(render_manifests(wine_quality(), image="img:1"), "Job"):
        spec = job["spec"]["template"]["spec"]
        assert spec["restartPolicy"] == "Never"
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert all(c["securityContext"]["allowPrivilegeEscalation"] is False
                   for c in spec["containers"] + spec["initContainers"])


def test_run_id_gives_distinct_job_names_and_no_cron_jobs():
    objects = render_manifests(wine_quality(), image="img:1", run_id="r1")
    assert [j["metadata"]["name"] for j in _by_kind(objects, "Job")] == [
        "wine-quality-prepare-r1", "wine-quality-train-r1"]
    assert not _by_kind(objects, "CronJob")


@pytest.mark.parametrize("text, expected", [
    ("Wine_Quality", "wine-quality"), ("--a..b--", "a-b"), ("UPPER case!", "upper-case"),
    ("", "x")])
def test_dns_names_are_sanitised(text, expected):
    assert dns_name(text) == expected


def test_long_names_are_cut_with_a_hash_and_stay_distinct():
    first, second = dns_name("a" * 80, "one"), dns_name("a" * 80, "two")
    assert len(first) == 63 and len(second) == 63 and first != second
    assert label_value("0.1.0+local") == "0.1.0-local"


def test_unknown_parameter_is_an_input_error_naming_it():
    with pytest.raises(InputError, match="parameter epoch: .* no such parameter"):
        render_manifests(wine_quality(), image="img:1", params={"epoch": 3})


@pytest.mark.parametrize("params, match", [({"epochs": "many"}, "'many' is not a int"),
                                           ({"mode": "slow"}, "not one of")])
def test_bad_parameter_values_are_input_errors(params, match):
    with pytest.raises(InputError, match=match):
        render_manifests(wine_quality(), image="img:1", params=params)


def test_bad_memory_quantity_names_the_field():
    program = wine_quality()
    program.steps["prepare"].resources.memory = "lots"
    with pytest.raises(InputError, match="steps.prepare.resources.memory: 'lots'"):
        render_manifests(program, image="img:1")


def test_unknown_reference_in_a_step_names_the_step():
    program = wine_quality()
    program.steps["prepare"].run = "python prepare.py {datasets.missing}"
    with pytest.raises(InputError, match=r"steps.prepare.run: unknown reference \{datasets.missing\}"):
        render_manifests(program, image="img:1")


def test_invalid_object_names_kind_name_and_field():
    objects = render_manifests(single_step(), image="img:1")
    job = copy.deepcopy(_by_kind(objects, "Job")[0])
    job["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "http"}]
    with pytest.raises(VerificationError,
                       match=r"Job/hello-world-main: spec.template.spec.containers.0.ports.0"):
        validate_manifests([job])
    job = copy.deepcopy(_by_kind(objects, "Job")[0])
    job["spec"]["bogus"] = 1
    with pytest.raises(VerificationError, match="Job/hello-world-main: spec: .*bogus"):
        validate_manifests([job])


def test_unsupported_kubernetes_version_is_an_input_error():
    with pytest.raises(InputError, match="no schemas for Kubernetes 1.2"):
        validate_manifests([], kubernetes_version="1.2")
