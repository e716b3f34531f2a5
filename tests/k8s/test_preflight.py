"""The preflight over node facts: a table of clusters and the plain message for each."""

from __future__ import annotations

import pytest

from samepack.k8s.api.preflight import NodeFacts, node_facts, preflight, step_needs
from tests.k8s.programs import single_step, wine_quality


def node(name: str, cpu: str, memory: str, gpus: str | None = None,
         gpu_memory_mib: str | None = None, unschedulable: bool = False, ready: bool = True,
         taints: list[dict] | None = None) -> dict:
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
    if gpus is not None:
        allocatable["nvidia.com/gpu"] = gpus
    labels = {"kubernetes.io/hostname": name}
    if gpu_memory_mib:
        labels["nvidia.com/gpu.memory"] = gpu_memory_mib
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"unschedulable": unschedulable, "taints": taints or []},
            "status": {"allocatable": allocatable, "conditions": [
                {"type": "Ready", "status": "True" if ready else "False"}]}}


CPU_NODE = node("cpu-1", "3800m", "15Gi")
SMALL_NODE = node("small", "1", "2Gi")
GPU16 = node("gpu-16", "8", "64Gi", "1", "16384")
GPU24 = node("gpu-24", "16", "128Gi", "2", "24576")
GPU_UNLABELLED = node("gpu-x", "8", "64Gi", "1")

CASES = [
    ("cpu only", [CPU_NODE], ["step train needs 1 GPU with 24Gi; the largest node offers 0 GPUs"]),
    ("gpu too small", [CPU_NODE, GPU16],
     ["step train needs 1 GPU with 24Gi; the largest GPU offers 16Gi (node gpu-16)"]),
    ("gpu memory unknown", [GPU_UNLABELLED],
     ["step train needs 1 GPU with 24Gi; no node labels its GPU memory (nvidia.com/gpu.memory), "
      "so none can be chosen"]),
    ("fits", [CPU_NODE, GPU24], []),
    ("small cpu", [SMALL_NODE, GPU24],
     []),
    ("too little everywhere", [SMALL_NODE],
     ["step prepare needs 2 CPUs; the largest node offers 1 CPU (node small)",
      "step train needs 1 GPU with 24Gi; the largest node offers 0 GPUs"]),
    ("cordoned", [node("gpu-24", "16", "128Gi", "2", "24576", unschedulable=True)],
     ["the cluster has no schedulable nodes (gpu-24 cordoned)"]),
    ("not ready", [CPU_NODE, node("gpu-24", "16", "128Gi", "2", "24576", ready=False)],
     ["step train needs 1 GPU with 24Gi; the largest node offers 0 GPUs"]),
    ("all not ready", [node("a", "16", "128Gi", ready=False)],
     ["the cluster has no schedulable nodes (a NotReady)"]),
    ("gpu taint is tolerated", [CPU_NODE, node("gpu-24", "16", "128Gi", "2", "24576", taints=[
        {"key": "nvidia.com/gpu", "effect": "NoSchedule"}])], []),
    ("other taint is not", [CPU_NODE, node("gpu-24", "16", "128Gi", "2", "24576", taints=[
        {"key": "dedicated", "value": "infra", "effect": "NoSchedule"}])],
     ["step train: every node that could hold it has a taint it does not tolerate "
      "(gpu-24 dedicated)"]),
    ("prefer-no-schedule is no bar", [CPU_NODE, node("gpu-24", "16", "128Gi", "2", "24576", taints=[
        {"key": "dedicated", "effect": "PreferNoSchedule"}])], []),
    ("no nodes", [], ["the cluster has no schedulable nodes"]),
]


@pytest.mark.parametrize("label, nodes, expected", CASES, ids=[case[0] for case in CASES])
def test_preflight_messages(label, nodes, expected):
    assert preflight(step_needs(wine_quality()), [node_facts(n) for n in nodes]) == expected


def test_memory_shortfall_names_the_largest_node():
    nodes = [node_facts(node("tiny", "4", "128Mi"))]
    assert preflight(step_needs(single_step()), nodes) == [
        "step main needs 256Mi of memory; the largest node offers 128Mi (node tiny)"]


def test_no_single_node_offers_everything():
    nodes = [NodeFacts("cpus", cpu=64, memory=2**27), NodeFacts("memory", cpu=0.25, memory=2**40)]
    assert preflight(step_needs(single_step()), nodes) == [
        "step main needs 0.5 CPUs and 256Mi of memory; no single node offers all of it"]


def test_node_facts_read_allocatable_and_gpu_memory_label():
    facts = node_facts(GPU24)
    assert (facts.name, facts.cpu, facts.gpus) == ("gpu-24", 16, 2)
    assert facts.memory == 128 * 2**30 and facts.gpu_memory == 24 * 2**30
