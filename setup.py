"""Build hook: ship the course inside the wheel, so `studypath notebooks` works from PyPI.

The notebooks (and the labs) live at the top of the repository, outside the package; a
wheel build copies them into `studypath/course/`. An editable install needs no copy: it
reads `notebooks/` of the checkout (see `studypath.cli.workspace.course_dir`).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

COURSE = {"notebooks": ["*.ipynb"], "labs": ["*/*.py", "*/*.toml", "*/*.md"]}


class BuildWithCourse(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        course = Path(self.build_lib) / "studypath" / "course"
        for folder, patterns in COURSE.items():
            for pattern in patterns:
                for source in sorted(Path(folder).glob(pattern)):
                    target = (
                        course
                        / ("" if folder == "notebooks" else folder)
                        / source.relative_to(folder)
                    )
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildWithCourse})
