"""`Table`: rows of plain values that show as an HTML table in a notebook and as aligned
text elsewhere. The other tables of `viz` (a trace's span timings) are kinds of it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, ClassVar


def shown(value: Any) -> str:
    """A cell's text: floats short (`0.25`, `1e+06`), None as nothing."""
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


@dataclass
class Table:
    """Rows of plain values (each row a dict, the first row's keys the columns)."""

    rows: list[dict[str, Any]]

    EMPTY: ClassVar[str] = "(no rows)"
    CELL_STYLE: ClassVar[str] = "text-align:left"

    def cell(self, value: Any) -> str:
        return shown(value)

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p>{self.EMPTY}</p>"
        head = "".join(f"<th>{html.escape(key)}</th>" for key in self.rows[0])
        body = "".join(
            "<tr>"
            + "".join(
                f"<td style='{self.CELL_STYLE}'>{html.escape(self.cell(v))}</td>"
                for v in row.values()
            )
            + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        if not self.rows:
            return self.EMPTY
        keys = list(self.rows[0])
        widths = {k: max(len(k), *(len(shown(row.get(k))) for row in self.rows)) for k in keys}
        lines = ["  ".join(k.ljust(widths[k]) for k in keys).rstrip()]
        for row in self.rows:
            lines.append("  ".join(shown(row.get(k)).ljust(widths[k]) for k in keys).rstrip())
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, key: str) -> list[Any]:
        return [row.get(key) for row in self.rows]


__all__ = ["Table", "shown"]
