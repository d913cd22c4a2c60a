"""The `email` task: build a real RFC 5322 message and deliver it.

With `STUDYPATH_SMTP_HOST` set, the message goes to that SMTP server (aiosmtplib: async,
optional STARTTLS and login). Without one it is written to `<data_dir>/outbox/` as an .eml
file — as Django's file backend does — so a laptop or a notebook can "send" mail and open
the result in any mail program, with nothing to configure.

Retries follow SMTP's own words: a lost connection, a timeout or a 4xx reply ("try again
later") is retried; a 5xx reply (unknown recipient, sender refused, login failed) is the
server's final answer, so the task fails at once with a PermanentError. The Message-ID is
made from the task id: if an attempt's outcome is lost and the task runs again, receivers
see the same message twice rather than two different ones, and can drop the copy.

Who may send what (`creation_rule`, checked when the task is created through the API): a
mail server that sends anything for anyone is a spam relay. Moderators and admins may
write to up to 100 recipients from any address; a plain user to at most 10, and only from
the system's sender (`from` left out) or from their own account's address.
"""

from __future__ import annotations

import asyncio
import email.utils
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import aiosmtplib
from pydantic import (
    BeforeValidator,
    EmailStr,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from studypath.config import Settings
from studypath.core.clock import utcnow
from studypath.core.validation import InputModel
from studypath.identity.roles import Role
from studypath.tasks.handlers.common import ensure_folder, file_stamp, write_atomically
from studypath.tasks.registry import (
    BreakerConfig,
    CreationRefused,
    Creator,
    PermanentError,
    TaskContext,
    builtin_task,
)

MAX_RECIPIENTS = 100
MAX_USER_RECIPIENTS = 10
MAX_BODY_CHARS = 500_000


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Recipients = Annotated[
    list[EmailStr],
    Field(min_length=1, max_length=MAX_RECIPIENTS),
    BeforeValidator(_one_or_many),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "email"},
                {
                    "type": "array",
                    "items": {"type": "string", "format": "email"},
                    "minItems": 1,
                    "maxItems": MAX_RECIPIENTS,
                },
            ],
            "description": f"One address or a list of 1–{MAX_RECIPIENTS}.",
        }
    ),
]
# A header line: RFC 5322 caps a line at 998 characters, and a line break would let the
# payload smuggle in headers of its own (Bcc: …), so none is allowed.
HeaderText = Annotated[str, StringConstraints(min_length=1, max_length=998, pattern=r"^[^\r\n]*$")]


class EmailPayload(InputModel):
    """Moderators and admins: up to 100 recipients, any `from`. Users: at most 10
    recipients, and `from` left out (the system's sender) or their own address."""

    to: Recipients
    subject: HeaderText
    body: str = Field(max_length=MAX_BODY_CHARS, description="Plain text.")
    from_: EmailStr | None = Field(
        default=None, alias="from", description="Sender (default: STUDYPATH_SMTP_FROM_ADDRESS)."
    )


class EmailResult(TypedDict):
    delivered_via: Literal["smtp", "file"]
    message_id: str
    recipients: list[str]
    path: NotRequired[str]
    refused: NotRequired[dict[str, str]]


class SmtpUnavailable(Exception):
    """The SMTP server could not take the message now (connection, timeout, 4xx): retried."""


def build_message(payload: EmailPayload, sender: str, message_id: str) -> EmailMessage:
    """A complete message: the stdlib does the RFC 5322 encoding (UTF-8 headers included)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(payload.to)
    message["Subject"] = payload.subject
    message["Date"] = email.utils.format_datetime(utcnow())
    message["Message-ID"] = message_id
    message.set_content(payload.body)
    return message


def check_creator(payload: dict[str, Any], creator: Creator) -> None:
    """Bound what a plain user may send (the payload already matched the schema)."""
    if creator.role.at_least(Role.MODERATOR):
        return
    to = payload.get("to")
    recipients = [to] if isinstance(to, str) else list(to or [])
    if len(recipients) > MAX_USER_RECIPIENTS:
        raise CreationRefused(
            f"users may send an email to at most {MAX_USER_RECIPIENTS} recipients "
            f"(got {len(recipients)}); moderators and admins up to {MAX_RECIPIENTS}",
            "payload.to",
        )
    sender = payload.get("from")
    if sender is not None and str(sender).casefold() != creator.email.casefold():
        raise CreationRefused(
            "users may send only from their own address "
            f"({creator.email}) or, leaving `from` out, from the system's sender",
            "payload.from",
        )


@builtin_task(
    "email",
    "Send an email over SMTP, or write it to the outbox folder when no server is configured",
    payload=EmailPayload,
    timeout=300,
    breaker=BreakerConfig(failure_threshold=5, recovery_timeout_seconds=60),
    creation_rule=check_creator,
)
async def send_email(payload: EmailPayload, ctx: TaskContext) -> EmailResult:
    """Send an email (SMTP) or write it as an .eml file to the outbox."""
    settings: Settings = ctx.settings
    sender = payload.from_ or settings.smtp_from_address
    domain = sender.rpartition("@")[2] or "studypath.local"
    message_id = f"<{ctx.task_id}@{domain}>"
    message = build_message(payload, sender, message_id)
    if not settings.smtp_host:
        path = await asyncio.to_thread(
            _write_to_outbox, ctx.data_dir, settings.smtp_outbox_dir, ctx.task_id.hex, message
        )
        return {
            "delivered_via": "file",
            "path": str(path),
            "message_id": message_id,
            "recipients": list(payload.to),
        }
    refused = await _send_smtp(message, sender, list(payload.to), settings)
    return {
        "delivered_via": "smtp",
        "message_id": message_id,
        "recipients": [address for address in payload.to if address not in refused],
        "refused": refused,
    }


def _write_to_outbox(
    data_dir: Path, folder_name: str, task_key: str, message: EmailMessage
) -> Path:
    folder = ensure_folder(data_dir, folder_name)
    path = folder / f"{file_stamp(utcnow())}-{task_key}.eml"
    write_atomically(path, bytes(message))
    return path


async def _send_smtp(
    message: EmailMessage, sender: str, recipients: list[str], settings: Settings
) -> dict[str, str]:
    """Deliver over SMTP; returns the recipients the server refused (if it took the rest)."""
    assert settings.smtp_host is not None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        refused, _reply = await aiosmtplib.send(
            message,
            sender=sender,
            recipients=recipients,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:  # every recipient was refused
        reasons = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if all(500 <= r.code < 600 for r in exc.recipients):
            raise PermanentError(f"SMTP server refused every recipient: {reasons}") from None
        raise SmtpUnavailable(f"SMTP server refused the recipients for now: {reasons}") from None
    except aiosmtplib.SMTPResponseException as exc:
        if 500 <= exc.code < 600:
            raise PermanentError(
                f"SMTP server refused the message: {exc.code} {exc.message}"
            ) from None
        raise SmtpUnavailable(f"SMTP server said try later: {exc.code} {exc.message}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:  # connection refused, lost, timed out
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise SmtpUnavailable(f"SMTP server {where} unreachable: {exc}") from None
    return {address: f"{reply.code} {reply.message}" for address, reply in refused.items()}
