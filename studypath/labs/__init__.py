"""Labs: exercises written once with their solutions, released to learners, checked live.

    studypath labs list
    studypath labs release lab-05-notes --out my-lab     # the learner's copy (stubs)
    studypath labs check lab-05-notes --path my-lab      # public checks, with hints
    studypath labs grade lab-05-notes submissions/       # + hidden checks, CSV gradebook
    studypath labs check lab-06 --path my-lab            # a tests lab: mutants grade your tests

The format (`lab.toml`, nbgrader-style markers, `check_*` functions) is described in
`catalog.py`, `markers.py` and `runner.py`; each lab plugs into the running system with
`Workbench.install`.
"""

from studypath.labs.catalog import LabSpec, get_lab, list_labs, release
from studypath.labs.mutants import Mutant, load_mutants, mutant, replace_route
from studypath.labs.report import text_report
from studypath.labs.runner import Lab, LabRun, Person, load_checks, run_lab, run_submissions

__all__ = [
    "Lab",
    "LabRun",
    "LabSpec",
    "Mutant",
    "Person",
    "get_lab",
    "list_labs",
    "load_checks",
    "load_mutants",
    "mutant",
    "release",
    "replace_route",
    "run_lab",
    "run_submissions",
    "text_report",
]
