"""How long rendering and strict validation of a program's Kubernetes objects and its
Dockerfile take, for programs of growing size; with --cluster also how long applying them to a
real API server takes, beside ``kubectl apply --server-side`` of the same manifests.

    python bench/k8s.py                  # 1, 10 and 100 steps
    python bench/k8s.py --steps 1 50     # other sizes
    python bench/k8s.py --cluster        # 20 steps against a real API server (KUBEBUILDER_ASSETS)

Each figure is the best of --repeat runs (wall clock, in this process). --cluster starts etcd,
kube-apiserver and kube-controller-manager from envtest's binaries (as the tests do), applies
into fresh namespaces (a first apply creates), samepack and kubectl taking turns, and prints
the median of each beside the other with their ratio and the load average (the machine is
shared); then it stops them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from samepack.image.base import choose_base_image
from samepack.image.dockerfile import DockerfileInputs, render_dockerfile
from samepack.k8s import render_manifests, validate_manifests
from samepack.k8s.objects.argo import render_workflow
from samepack.k8s.api.preflight import NodeFacts, preflight, step_needs
from samepack.program.model import Parameter, Program, Resources, Step


def program(steps: int) -> Program:
    """A chain of ``steps`` steps, each needing the one before, with a parameter and a GPU."""
    chain = {}
    for index in range(steps):
        chain[f"s{index}"] = Step(f"s{index}", f"python step.py --n {{params.n}} --i {index}",
                                  needs=[f"s{index - 1}"] if index else [],
                                  resources=Resources(gpus=index % 2, vram="16Gi"))
    return Program(name="bench", version="1.0", steps=chain,
                   resources=Resources(cpu=1, memory="1Gi"),
                   parameters={"n": Parameter("n", "int", 1)})


def best(repeat: int, action) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def cluster_bench(steps: int, repeat: int) -> None:
    """Render, validate and apply ``steps`` steps against a real API server, beside kubectl."""
    import importlib.util

    from samepack.k8s.api.cluster import Cluster
    from samepack.k8s.api.dump import dump_manifests
    from samepack.k8s.apply.plan import retarget

    tests = Path(__file__).resolve().parent.parent / "tests"
    sys.path.insert(0, str(tests))  # the control plane helper imports `support` from there
    spec = importlib.util.spec_from_file_location("controlplane", tests / "k8s" / "controlplane.py")
    controlplane = importlib.util.module_from_spec(spec)
    sys.modules["controlplane"] = controlplane
    spec.loader.exec_module(controlplane)
    ControlPlane, assets_dir = controlplane.ControlPlane, controlplane.assets_dir

    assets = assets_dir()
    if assets is None:
        raise SystemExit("set KUBEBUILDER_ASSETS (bash scripts/setup.sh --test unpacks it into .envtest/)")
    prog = program(steps)
    with tempfile.TemporaryDirectory() as state:
        plane = ControlPlane(assets, Path(state)).start()
        try:

            os.environ["KUBECONFIG"] = str(plane.kubeconfig())
            cluster = Cluster.connect()
            render = best(repeat, lambda: render_manifests(prog, image="img:1"))
            objects = render_manifests(prog, image="img:1")
            validate = best(repeat, lambda: validate_manifests(objects, "1.30"))
            counter = iter(range(10_000))

            def ours() -> None:
                for obj in retarget(objects, f"samepack-{next(counter)}"):
                    cluster.apply(obj)

            def kubectl() -> None:
                text = dump_manifests(retarget(objects, f"kubectl-{next(counter)}"))
                subprocess.run([str(assets / "kubectl"), "--kubeconfig", str(plane.kubeconfig()),
                                "apply", "--server-side", "--field-manager", "bench", "-f", "-"],
                               input=text, text=True, check=True, capture_output=True)

            ours()  # warm: discovery, connections
            kubectl()
            ours_times, peer_times, loads = [], [], []
            for _ in range(repeat):  # taking turns, so both see the same load
                ours_times.append(best(1, ours))
                peer_times.append(best(1, kubectl))
                loads.append(os.getloadavg()[0])
            applied, peer = statistics.median(ours_times), statistics.median(peer_times)
            cluster.close()
        finally:
            plane.stop()
    print(f"{steps} steps, {len(objects)} objects against kube-apiserver {plane.server}")
    print(f"  render    {render * 1000:8.1f} ms")
    print(f"  validate  {validate * 1000:8.1f} ms (kubernetes-validate, strict, 1.30)")
    print(f"  apply     {applied * 1000:8.1f} ms (samepack, server-side apply per object; "
          f"median of {repeat})")
    print(f"  kubectl   {peer * 1000:8.1f} ms (kubectl apply --server-side -f, same manifests; "
          f"median of {repeat})")
    print(f"  ratio     {applied / peer:8.2f} (samepack / kubectl)")
    print(f"  load      {statistics.median(loads):8.2f} (1-minute load average, median over the "
          f"runs; {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cluster", action="store_true",
                        help="apply a 20-step program (or --steps N) to a real API server")
    args = parser.parse_args()
    if args.cluster:
        cluster_bench(args.steps[0] if args.steps != [1, 10, 100] else 20, args.repeat)
        return
    nodes = [NodeFacts(f"n{i}", cpu=8, memory=2**35, gpus=i % 2, gpu_memory=2**34) for i in range(500)]
    print(f"{'steps':>6} {'objects':>8} {'render':>9} {'validate':>9} {'argo':>9} {'preflight':>10}")
    for steps in args.steps:
        prog = program(steps)
        objects = render_manifests(prog, image="img:1")
        render = best(args.repeat, lambda: render_manifests(prog, image="img:1"))
        validate = best(args.repeat, lambda: validate_manifests(objects, "1.30"))
        argo = best(args.repeat, lambda: render_workflow(prog, image="img:1", namespace="b", run_id="r"))
        check = best(args.repeat, lambda: preflight(step_needs(prog), nodes))
        print(f"{steps:>6} {len(objects):>8} {render * 1000:>7.1f}ms {validate * 1000:>7.0f}ms "
              f"{argo * 1000:>7.1f}ms {check * 1000:>8.1f}ms")
    base = choose_base_image(python="3.11", gpu=False, cuda_versions=[])
    dockerfile = best(args.repeat, lambda: render_dockerfile(DockerfileInputs("bench", "1.0", base)))
    print(f"Dockerfile render: {dockerfile * 1000:.1f}ms")


if __name__ == "__main__":
    main()
