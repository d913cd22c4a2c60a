"""The shapes of an account that every account API shares: the name, email and password
fields (with their rules) and `UserProfile`, the account as the API shows it.

Every text field is `Text` (no NUL, no lone surrogate: a 400 naming the field, never a 500
from the database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    Field,
    StringConstraints,
)

from studypath.core.responses import RowOut
from studypath.core.validation import SchemaSays, Text, check_text
from studypath.identity.passwords import MAX_LENGTH, MIN_LENGTH
from studypath.identity.roles import Role


def _storable_if_text(value: Any) -> Any:
    """Refuse NUL and lone surrogates before the email parser sees them (it may not cope)."""
    return check_text(value) if isinstance(value, str) else value


# The constraints come before the `Text` check so the pattern stays in the JSON schema
# (after a validator, pydantic enforces it but cannot document it).
Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_-]+$"
    ),
    AfterValidator(check_text),
]
Email = Annotated[EmailStr, BeforeValidator(_storable_if_text)]
# A password you prove you know (login, confirmations): any you may have set.
Password = Annotated[Text, Field(min_length=1, max_length=1024)]
NEW_PASSWORD_RULES = (
    f"{MIN_LENGTH}-{MAX_LENGTH} characters with at least 3 of: lowercase letter, uppercase "
    "letter, digit, other character; not on the list of common (leaked) passwords. "
    "A password breaking a rule is refused with 400, every problem listed."
)
# A password you choose: the policy (`identity.passwords`) checks it in the service, so one 400
# lists every problem; the schema states the length the policy demands (a client reads it
# there), while the model's own bound only keeps absurd input away from the policy.
NewPassword = Annotated[
    Text,
    Field(min_length=1, max_length=1024, description=NEW_PASSWORD_RULES),
    SchemaSays(minLength=MIN_LENGTH, maxLength=MAX_LENGTH),
]


class UserProfile(RowOut):
    username: str
    email: str
    role: Role
    is_active: bool
    email_verified: bool
    created_at: datetime
    last_login_at: datetime | None
    password_change_required: bool = Field(
        default=False,
        description="A staff reset asked for a new password: until you change it "
        "(PUT /users/me/password) your session can only read /auth/me and log out.",
    )
