"""Every table of the system, imported in one place so `Base.metadata` is complete.

Alembic compares this metadata with the database; the week-1 notebook draws it.
"""

from studypath.auth.models import ApiKey, LoginThrottle, Session
from studypath.core.db import Base
from studypath.monitoring.models import Alert, Event, Incident, Metric
from studypath.notes.models import Note, NoteShare
from studypath.notifications.models import Notification
from studypath.tasks.models import CircuitBreaker, Task, TaskType, WorkerRecord
from studypath.users.models import User

metadata = Base.metadata

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
