"""The package's version, in a module of its own: any layer may read it without importing
the package's entry points (`studypath/__init__.py` starts the Workbench)."""

__version__ = "0.1.0"
