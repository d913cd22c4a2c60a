"""Mermaid diagrams as notebook output: JupyterLab ≥ 4.1 draws `text/vnd.mermaid` natively.

The plain-text copy travels with it, so GitHub, nbval and a terminal all see the source.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

MERMAID_MIME = "text/vnd.mermaid"

# Characters that end a mermaid statement (`;`), start an entity code (`#`), close a quoted
# label (`"`) or open an HTML tag (`<`): replaced by look-alikes that mean nothing to mermaid.
_UNSAFE = str.maketrans({";": "；", "#": "＃", '"': "'", "<": "‹", ">": "›", "`": "'"})
_OPERATORS = {">=": "≥", "<=": "≤", "<>": "≠", "!=": "≠", "->": "→"}


@dataclass(frozen=True)
class Mermaid:
    """A diagram's mermaid source; a notebook renders it, `str()` gives the text back."""

    source: str

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, str]:  # IPython's display protocol
        return {MERMAID_MIME: self.source, "text/plain": self.source}

    def __str__(self) -> str:
        return self.source


def mermaid(source: str) -> Mermaid:
    """Wrap mermaid text for display; indentation common to all lines is removed."""
    return Mermaid(textwrap.dedent(source).strip())


def escape(text: str, limit: int | None = None) -> str:
    """Free text made safe for a mermaid label or message: one line, nothing mermaid parses.

    With `limit`, the text is shortened to at most that many characters (ending in `…`).
    """
    for operator, symbol in _OPERATORS.items():
        text = text.replace(operator, symbol)
    text = " ".join(text.translate(_UNSAFE).split())
    while "%%" in text:  # `%%` starts a mermaid comment
        text = text.replace("%%", "%")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
