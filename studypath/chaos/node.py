"""One process of a chaos cluster: `python -m studypath.chaos.node server|worker`.

The same `System` as `studypath server` / `studypath worker`, configured from the
`STUDYPATH_*` environment, with the chaos task types added to the built-in ones. A separate
process, so a chaos run can kill it (SIGKILL), freeze it (SIGSTOP) and start it again as an
operator would. It prints `ready` once it serves (the server: its port is fixed by
`STUDYPATH_PORT`, so a restarted server answers at the same address).
"""

from __future__ import annotations

import sys

from studypath.chaos import effects
from studypath.config import load_settings
from studypath.core.logging import configure_console_logging
from studypath.system import System, bind_socket, run_event_loop
from studypath.tasks.handlers import builtin_registry

ROLES = ("server", "worker")


def main(role: str) -> None:
    if role not in ROLES:
        raise SystemExit(f"usage: python -m studypath.chaos.node {{{'|'.join(ROLES)}}}")
    settings = load_settings()
    configure_console_logging(settings.log_level)
    registry = effects.register(builtin_registry())
    if role == "server":
        system = System(
            settings,
            serve_api=True,
            workers=0,
            sock=bind_socket(settings.host, settings.port),
            registry=registry,
        )
    else:
        system = System(settings, serve_api=False, workers=1, registry=registry)

    def ready() -> None:
        sys.stdout.write("ready\n")
        sys.stdout.flush()

    run_event_loop(system.run(on_ready=ready))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
