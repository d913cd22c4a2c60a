"""A live view of a chaos run in a notebook: one ipywidgets HTML panel, rewritten every
time the run observes the system (four times a second)."""

from __future__ import annotations

import html
from typing import Any

from studypath.chaos.runner import Live


class Dashboard:
    """`Dashboard().show()`, then pass `dashboard.update` as the run's `on_update`."""

    def __init__(self, title: str = "chaos run") -> None:
        import ipywidgets

        self.title = title
        self.widget: Any = ipywidgets.HTML(value=self._render(Live()))

    def show(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]

    def update(self, live: Live) -> None:
        self.widget.value = self._render(live)

    def _render(self, live: Live) -> str:
        rows = [
            ("time", f"{live.now:5.1f} s ({live.phase})"),
            ("tasks accepted / effects", f"{live.accepted} / {live.completed_effects}"),
            (
                "queue: unfinished",
                "database unreachable" if live.unfinished is None else str(live.unfinished),
            ),
            ("API answers ok / failed", f"{live.api_ok} / {live.api_failed}"),
            ("breakers not closed", ", ".join(live.breakers_open) or "none"),
            ("faults in force", ", ".join(live.open_faults) or "none"),
        ]
        cells = "".join(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(value)}</td></tr>"
            for name, value in rows
        )
        return f"<h4>{html.escape(self.title)}</h4><table>{cells}</table>"
