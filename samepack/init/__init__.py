"""``samepack init``: infer a program from a project (entry points, parameters, data, lock).

Public API: ``discover`` / ``plausible`` / ``select`` (entry points), ``extract_parameters``
(static reading of a script's command line), ``find_datasets``, ``infer_program`` and
``write_program``.
"""

from samepack.init.datasets import find_datasets
from samepack.init.entrypoints import EntryCandidate, discover, plausible, select
from samepack.init.params import extract_parameters
from samepack.init.synth import Inference, infer_program
from samepack.init.writer import write_program

__all__ = ["EntryCandidate", "Inference", "discover", "extract_parameters", "find_datasets",
           "infer_program", "plausible", "select", "write_program"]
