"""nbval settings for the course notebooks.

JupyterLab's mermaid renderer adds an `image/svg+xml` copy of the drawing to every
`text/vnd.mermaid` output it shows, and autosave writes it into the notebook. A fresh run
has no renderer, so nbval would report "Missing output fields … image/svg+xml" for every
checked diagram. Output a renderer adds is not the code's output: nbval ignores it here,
as it already ignores images (`image/png`) and widget model ids.
"""

from __future__ import annotations

import pytest
from nbval.plugin import IPyNbFile

RENDERER_ADDED_MIMETYPES = ("image/svg+xml",)


def pytest_collectstart(collector: pytest.Collector) -> None:
    if isinstance(collector, IPyNbFile):
        collector.skip_compare = (*collector.skip_compare, *RENDERER_ADDED_MIMETYPES)
