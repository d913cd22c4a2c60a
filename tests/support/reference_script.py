"""The reference guide's `test-with-curl.sh`, admin section: the requests it sends to a user
an admin has just created, in order. Written once, replayed by the HTTP contract test (the
reference's status codes) and by the users tests (the reasons reach the audit log)."""

from __future__ import annotations

# (method, action under /users/{id}/, body)
ADMIN_STEPS: list[tuple[str, str, dict[str, object]]] = [
    ("PUT", "profile", {"username": "updated_user_1", "email_verified": True}),
    ("PUT", "status", {"is_active": False, "reason": "Test deactivation"}),
    ("PUT", "role", {"role": "moderator", "reason": "Test promotion"}),
    (
        "POST",
        "reset-password",
        {"new_password": "ResetPass123!", "require_change": True, "reason": "Test reset"},
    ),
]
# The script's last request: DELETE /users/{id} with this body.
ADMIN_DELETE = {"reason": "Test deletion", "hard_delete": False}
