"""The README tells the truth: its quick start is CI's, its course table matches the
notebooks that exist, its extras exist, its links point somewhere."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUICK_START = [
    "pip install -e '.[dev]' && studypath notebooks",
    "pip install -e '.[dev]' && pytest",
]


def course_rows() -> dict[int, str]:
    """{week: its table row} from the README's course table (not the other tables whose
    rows also start with a digit, such as the chaos levels')."""
    table = README.split("\n| week | guide section |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (\d) \| .*$", table, re.MULTILINE)
    lines = re.findall(r"^\| \d \| .*$", table, re.MULTILINE)
    return {int(week): line for week, line in zip(rows, lines, strict=True)}


def test_readme_quick_start_is_two_lines_and_the_second_is_cis_test_command() -> None:
    block = README.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]

    assert commands == QUICK_START
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet -e '.[dev]'" in ci
    assert ci.rstrip().splitlines()[-1] == "pytest"


def test_readme_extras_notebooks_for_learners_and_dev_includes_it() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    learners = {re.split(r"[<>=\[]", spec)[0] for spec in extras["notebooks"]}

    assert {"jupyterlab", "ipywidgets", "matplotlib", "nbformat", "ipykernel"} <= learners
    assert not {"pytest", "ruff", "mypy"} & learners  # light: no contributor tools
    assert any(spec.startswith("studypath[") and "notebooks" in spec for spec in extras["dev"])
    assert "pip install -e '.[notebooks]'" in README


def test_readme_course_table_states_which_weeks_exist() -> None:
    rows = course_rows()
    notebooks = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))

    assert sorted(rows) == list(range(1, 9))
    for week, row in rows.items():
        # A week's notebooks: `week-07-….ipynb`, and its later parts `week-07b-….ipynb`.
        listed = re.findall(r"`(week-\d\d[a-z]?-[\w-]+\.ipynb)`", row)
        part_of_week = re.compile(rf"week-{week:02d}[a-z]?-")
        assert listed == [name for name in notebooks if part_of_week.match(name)], row
        state = row.rstrip(" |").rsplit(" | ", 1)[1]
        if not listed:
            assert state.startswith("not yet"), row
        else:
            assert state.startswith("ready"), row


def test_readme_links_the_contract_security_and_performance_pages() -> None:
    links = set(re.findall(r"\]\((docs/[\w.-]+)\)", README))

    assert {"docs/api.md", "docs/security.md", "docs/performance.md"} <= links
    assert (ROOT / "docs" / "performance.md").read_text().startswith("# Performance")
    assert "## Performance" not in README
    assert "placeholder" not in README  # the page at / is the web app


def test_readme_shows_the_dashboard_and_documents_the_web_app() -> None:
    images = re.findall(r"!\[[^\]]+\]\((docs/screenshots/[\w.-]+\.png)\)", README)
    web = README.split("## Web app", 1)[1].split("\n## ", 1)[0]

    assert images == ["docs/screenshots/dashboard.png"]
    assert (ROOT / images[0]).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "](web/README.md)" in web
    for command in ("npm run dev", "npm run generate-types", "npm run build"):
        assert command in web, command
