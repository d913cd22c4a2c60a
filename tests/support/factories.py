"""The authorization table's cast (`create_world`): the project's own. The general factories
(`make_user`, `make_note`, `make_task`, …) are `studypath.testing`'s."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth import keys as auth_keys
from studypath.auth import sessions as auth_sessions
from studypath.auth.policies import session_policy
from studypath.config import Settings
from studypath.core.security import hash_password
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.monitoring.models import Alert, Event, EventType, Incident
from studypath.notes.models import Note, NoteShare
from studypath.notifications.models import Notification
from studypath.tasks.models import Task, TaskType
from studypath.tasks.states import TaskStatus
from studypath.testing.factories import DEFAULT_PASSWORD

_counter = itertools.count(1)
AUTHZ_TASK_TYPE = "authz_probe"


@dataclass
class Actor:
    """Someone who calls the API in a test: a user (or nobody) and the headers they send."""

    name: str
    user: User | None
    token: str | None

    @property
    def username(self) -> str:
        assert self.user is not None, f"{self.name} has no account"
        return self.user.username

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class World:
    """The cast of the authorization table: a resource owner, another plain user, a
    moderator and an admin, each signed in; plus what the owner owns."""

    owner: Actor
    other: Actor
    moderator: Actor
    admin: Actor
    anonymous: Actor
    owner_key_id: str = ""
    owner_task_id: str = ""  # pending
    owner_failed_task_id: str = ""  # dead-lettered
    owner_done_task_id: str = ""  # completed
    owner_event_id: str = ""
    owner_incident_id: str = ""
    alert_id: str = ""
    owner_note_id: str = ""  # private
    owner_shared_note_id: str = ""  # shared with `other`, read-only
    owner_notification_id: str = ""
    tag: int = 0

    def actor(self, name: str) -> Actor:
        actor: Actor = getattr(self, name)
        return actor

    def ids(self) -> dict[str, str]:
        """Values for `{placeholders}` in the table's paths."""
        return {
            "owner_id": str(self.owner.user.id) if self.owner.user else "",
            "other_id": str(self.other.user.id) if self.other.user else "",
            "moderator_id": str(self.moderator.user.id) if self.moderator.user else "",
            "admin_id": str(self.admin.user.id) if self.admin.user else "",
            "owner_key_id": self.owner_key_id,
            "owner_task_id": self.owner_task_id,
            "owner_failed_task_id": self.owner_failed_task_id,
            "owner_done_task_id": self.owner_done_task_id,
            "owner_event_id": self.owner_event_id,
            "owner_incident_id": self.owner_incident_id,
            "alert_id": self.alert_id,
            "owner_note_id": self.owner_note_id,
            "owner_shared_note_id": self.owner_shared_note_id,
            "owner_notification_id": self.owner_notification_id,
            "missing_id": "00000000-0000-4000-8000-000000000000",
        }


async def create_world(session: AsyncSession, settings: Settings) -> World:
    """Everything in one transaction: the table creates five worlds per row."""
    tag = next(_counter)
    password_hash = hash_password(DEFAULT_PASSWORD)
    policy = session_policy(settings)
    actors: dict[str, Actor] = {}
    for name, role in (
        ("owner", Role.USER),
        ("other", Role.USER),
        ("moderator", Role.MODERATOR),
        ("admin", Role.ADMIN),
    ):
        user = User(
            username=f"{name}{tag}",
            email=f"{name}{tag}@example.com",
            password_hash=password_hash,
            role=role,
        )
        session.add(user)
        await session.flush()
        token, _row = await auth_sessions.create_session(session, user.id, policy)
        actors[name] = Actor(name, user, token)
    world = World(
        owner=actors["owner"],
        other=actors["other"],
        moderator=actors["moderator"],
        admin=actors["admin"],
        anonymous=Actor("anonymous", None, None),
        tag=tag,
    )
    owner = actors["owner"].user
    assert owner is not None
    if await session.get(TaskType, AUTHZ_TASK_TYPE) is None:
        session.add(TaskType(task_type=AUTHZ_TASK_TYPE, description="authorization table"))
        await session.flush()
    tasks = {
        attribute: Task(task_type=AUTHZ_TASK_TYPE, created_by=owner.id, status=status)
        for attribute, status in (
            ("owner_task_id", TaskStatus.PENDING),
            ("owner_failed_task_id", TaskStatus.DEAD_LETTER),
            ("owner_done_task_id", TaskStatus.COMPLETED),
        )
    }
    session.add_all(tasks.values())
    event = Event(event_type=EventType.LOG, source=f"user:{owner.username}", created_by=owner.id)
    incident = Incident(title="owner's incident", created_by=owner.id)
    alert = Alert(name="high latency", metric_name="client_latency", threshold=1.0)
    private = Note(owner_id=owner.id, title="private", content="mine")
    shared = Note(owner_id=owner.id, title="shared", content="ours")
    notification = Notification(
        user_id=owner.id, kind="test", title="hello", dedupe_key=f"world:{tag}"
    )
    session.add_all([event, incident, alert, private, shared, notification])
    await session.flush()
    other = actors["other"].user
    assert other is not None
    session.add(NoteShare(note_id=shared.id, shared_with=other.id, shared_by=owner.id))
    await session.flush()
    world.owner_note_id, world.owner_shared_note_id = str(private.id), str(shared.id)
    world.owner_notification_id = str(notification.id)
    for attribute, task in tasks.items():
        setattr(world, attribute, str(task.id))
    world.owner_event_id, world.owner_incident_id = str(event.id), str(incident.id)
    world.alert_id = str(alert.id)
    _key, row = await auth_keys.create_key(session, owner.id, "owner's key", None)
    await session.commit()  # the caller owns the transaction: here, the factory
    world.owner_key_id = str(row.id)
    return world
