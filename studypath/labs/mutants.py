"""Mutants: small deliberate bugs in a reference feature, to grade a learner's *tests*.

A lab of `kind = "tests"` ships a `mutants.py` of functions like this one:

    @mutant("a user can read another user's private note")
    def anyone_reads_private_notes(patch: MonkeyPatch) -> None:
        async def access_to(session, user_id, note):
            return "owner" if note.owner_id == user_id else "read"   # the bug
        patch.setattr(service, "access_to", access_to)

The string is the hint a learner sees when no test of theirs catches the bug. The function
gets a `pytest.MonkeyPatch` and changes the feature with it; everything it changes is put
back after that mutant's run. Two ways to change a feature:

- `patch.setattr(module, "function", replacement)` — for a bug in a service function (the
  API calls it through its module, so the replacement is what runs);
- `replace_route(patch, "POST", "/api/v1/notes", endpoint)` — for a bug in an endpoint
  (validation, a status code): every app the system builds while the mutant is applied
  serves `endpoint` for that route, in front of the feature's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest
    from fastapi import FastAPI

    from studypath.labs.catalog import LabSpec

Apply = Callable[["pytest.MonkeyPatch"], None]


@dataclass(frozen=True)
class Mutant:
    name: str  # the function's name
    hint: str  # what the bug is, as a learner reads it when it survives
    apply: Apply


def mutant(hint: str) -> Callable[[Apply], Mutant]:
    """Declare a mutant: `@mutant("what is wrong")` over a function that applies the bug."""
    if not hint.strip():
        raise ValueError("a mutant needs a hint: what is wrong, in the learner's words")

    def declare(apply: Apply) -> Mutant:
        return Mutant(apply.__name__, " ".join(hint.split()), apply)

    return declare


def replace_route(
    patch: pytest.MonkeyPatch,
    method: str,
    path: str,
    endpoint: Callable[..., Any],
    *,
    status_code: int | None = None,
) -> None:
    """While the mutant is applied, every app the system creates answers `method path`
    with `endpoint` (a FastAPI endpoint function: its parameters declare what it reads)
    instead of the feature's own route: the same app, one route swapped."""
    from fastapi import APIRouter

    from studypath import system

    router = APIRouter()
    router.add_api_route(path, endpoint, methods=[method], status_code=status_code)
    build = system.create_app  # type: ignore[attr-defined]  # the name System calls

    def create_app_with_mutant(*args: Any, **kwargs: Any) -> FastAPI:
        app = build(*args, **kwargs)
        app.router.routes[0:0] = router.routes  # first match wins: the mutant's
        return app

    patch.setattr(system, "create_app", create_app_with_mutant)


def load_mutants(lab: LabSpec) -> list[Mutant]:
    """A tests lab's mutants, in file order. (Their module stays imported: the endpoints a
    mutant serves are resolved against it when an app is built.)"""
    from studypath.labs.runner import import_copy

    module = import_copy(lab.mutants_path.parent, lab.mutants_path.stem, f"{lab.name}_mutants")
    found = [value for value in vars(module).values() if isinstance(value, Mutant)]
    if not found:
        raise ValueError(f"{lab.mutants_path} declares no @mutant")
    return found


__all__ = ["Mutant", "load_mutants", "mutant", "replace_route"]
