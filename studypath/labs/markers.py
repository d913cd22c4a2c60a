"""Solution and hidden-test markers, in the style nbgrader uses.

A lab is written once, complete. What the learner must write sits between markers:

    def create_note(...):
        ### BEGIN SOLUTION Step 2
        ...the instructor's code...
        ### END SOLUTION

and checks only the grader runs sit between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`.
Releasing a lab replaces each solution by a stub with the block's indentation (nbgrader's
`raise NotImplementedError()`, plus a pointer to the step) and removes the hidden blocks.
Text after a BEGIN SOLUTION marker names the step; nbgrader ignores it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

Kind = Literal["solution", "hidden"]
_BEGIN: dict[str, Kind] = {BEGIN_SOLUTION: "solution", BEGIN_HIDDEN: "hidden"}
_END: dict[str, Kind] = {END_SOLUTION: "solution", END_HIDDEN: "hidden"}
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")


class MarkerError(ValueError):
    """Markers that do not pair up; the message names the file and the line."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line


@dataclass(frozen=True)
class Block:
    """One marked block; `begin` and `end` are the 1-based lines of its two markers."""

    kind: Kind
    begin: int
    end: int
    indent: str
    function: str | None  # the function the block sits in, if any
    step: str  # text after the BEGIN marker, e.g. "Step 2"


def _marker(line: str) -> str | None:
    stripped = line.strip()
    for marker in (*_BEGIN, *_END):
        if stripped.startswith(marker):
            return marker
    return None


def _enclosing_function(lines: list[str], index: int, indent: str) -> str | None:
    """The nearest `def` above line `index` that is indented less than the block."""
    for line in reversed(lines[:index]):
        found = _DEF.match(line)
        if found and len(found.group(1)) < len(indent):
            return found.group(2)
    return None


def find_blocks(text: str, filename: str = "<text>") -> list[Block]:
    """Every marked block, in order. Unbalanced or nested markers raise `MarkerError`."""
    lines = text.splitlines()
    blocks: list[Block] = []
    open_marker: tuple[str, int] | None = None  # (marker, 0-based line)
    for index, line in enumerate(lines):
        marker = _marker(line)
        if marker is None:
            continue
        if marker in _BEGIN:
            if open_marker is not None:
                raise MarkerError(
                    filename,
                    index + 1,
                    f"{marker!r} inside the block opened at line {open_marker[1] + 1}",
                )
            open_marker = (marker, index)
            continue
        if open_marker is None:
            raise MarkerError(filename, index + 1, f"{marker!r} without a matching BEGIN")
        begin_marker, start = open_marker
        kind = _BEGIN[begin_marker]
        if _END[marker] != kind:
            raise MarkerError(
                filename,
                index + 1,
                f"{marker!r} closes the {begin_marker!r} block opened at line {start + 1}",
            )
        opening = lines[start]
        indent = opening[: len(opening) - len(opening.lstrip())]
        step = opening.strip()[len(begin_marker) :].strip(" :·-—")
        function = _enclosing_function(lines, start, indent)
        blocks.append(Block(kind, start + 1, index + 1, indent, function, step))
        open_marker = None
    if open_marker is not None:
        raise MarkerError(filename, open_marker[1] + 1, f"{open_marker[0]!r} is never closed")
    return blocks


def stub(block: Block) -> list[str]:
    """What replaces a solution in the learner's copy: nbgrader's stub, with a pointer."""
    where = f"{block.function}()" if block.function else "this part"
    step = f" ({block.step})" if block.step else ""
    message = f"{where}: your code here{step}; see README.md"
    return [
        f"{block.indent}# YOUR CODE HERE",
        f"{block.indent}raise NotImplementedError({message!r})",
    ]


def release_text(text: str, filename: str = "<text>", *, keep: Collection[str] = ()) -> str:
    """The learner's version of a file: solutions stubbed, hidden blocks removed.

    `keep` names functions whose solutions stay (to release a lab with some steps done)."""
    lines = text.splitlines()
    out: list[str] = []
    position = 0
    for block in find_blocks(text, filename):
        out.extend(lines[position : block.begin - 1])
        if block.kind == "solution":
            if block.function in keep:
                out.extend(lines[block.begin : block.end - 1])
            else:
                out.extend(stub(block))
        position = block.end
    out.extend(lines[position:])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def hidden_lines(text: str, filename: str = "<text>") -> set[int]:
    """The 1-based line numbers inside hidden blocks (their markers included)."""
    return {
        number
        for block in find_blocks(text, filename)
        if block.kind == "hidden"
        for number in range(block.begin, block.end + 1)
    }
