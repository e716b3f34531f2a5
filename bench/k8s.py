"""How long rendering and strict validation of a program's Kubernetes objects and its
Dockerfile take, for programs of growing size.

    python bench/k8s.py                  # 1, 10 and 100 steps
    python bench/k8s.py --steps 1 50     # other sizes

Each figure is the best of --repeat runs (wall clock, in this process).
"""

from __future__ import annotations

import argparse
import time

from samepack.image.base import choose_base_image
from samepack.image.dockerfile import DockerfileInputs, render_dockerfile
from samepack.k8s import render_manifests, validate_manifests
from samepack.k8s.argo import render_workflow
from samepack.k8s.preflight import NodeFacts, preflight, step_needs
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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
