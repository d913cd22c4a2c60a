"""Widgets that read well where no kernel runs them (GitHub, nbviewer, a fresh checkout)."""

from __future__ import annotations

from typing import Any


class Readable:
    """A widget shown with a static fallback: a front end that runs widgets shows the widget;
    any other shows `html` (and `text` in a terminal) instead of `VBox(children=…)`.

        Readable(widgets.VBox([picker, listing]), html=table_for("user"))
    """

    def __init__(self, widget: Any, html: str, text: str | None = None) -> None:
        self.widget = widget
        self.html = html
        self.text = text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(
            self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        )
        bundle["text/html"] = self.html
        if self.text is not None:
            bundle["text/plain"] = self.text
        return bundle

    def __repr__(self) -> str:
        return f"<Readable {type(self.widget).__name__}>"
