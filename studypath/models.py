"""Every table of the system, imported in one place so `Base.metadata` is complete.

Alembic compares this metadata with the database; the week-1 notebook draws it.
"""

from studypath.auth.models import ApiKey, LoginThrottle, Session
from studypath.core.db import Base
from studypath.identity.models import User
from studypath.monitoring.models import Alert, Event, Incident, Metric
from studypath.notes.models import Note, NoteShare
from studypath.notifications.models import Notification
from studypath.tasks.models import CircuitBreaker, Task, TaskType, WorkerRecord

metadata = Base.metadata

# Each table remembers the domain whose models define it (`studypath.tasks.models` -> `tasks`):
# the diagrams group the schema by it.
for _mapper in Base.registry.mappers:
    _table = metadata.tables[_mapper.class_.__tablename__]
    _table.info.setdefault("domain", _mapper.class_.__module__.split(".")[1])

__all__ = [
    "Alert",
    "ApiKey",
    "Base",
    "CircuitBreaker",
    "Event",
    "Incident",
    "LoginThrottle",
    "Metric",
    "Note",
    "NoteShare",
    "Notification",
    "Session",
    "Task",
    "TaskType",
    "User",
    "WorkerRecord",
    "metadata",
]
