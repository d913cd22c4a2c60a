"""The server process's own choices: its event loop and its garbage collector."""

from __future__ import annotations

import asyncio
import gc
import threading

import uvloop

from studypath.system import GC_THRESHOLDS, freeze_startup_objects, run_event_loop


def test_the_server_runs_on_uvloop_when_installed() -> None:
    async def loop_type() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    assert run_event_loop(loop_type()) is uvloop.Loop


def test_startup_objects_are_frozen_and_collections_rarer() -> None:
    thresholds = gc.get_threshold()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_notebook_kernel_keeps_its_garbage_collector() -> None:
    """The Workbench runs the system in a thread of the user's kernel: hands off its gc."""
    thresholds = gc.get_threshold()
    worker = threading.Thread(target=freeze_startup_objects)
    worker.start()
    worker.join()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
