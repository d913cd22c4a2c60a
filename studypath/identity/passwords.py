"""The password policy: 8-128 characters, 3 of 4 character classes, not a common password."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def character_classes(password: str) -> int:
    classes = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() or c in string.punctuation for c in password),
    ]
    return sum(classes)


def policy_violations(password: str) -> list[str]:
    """Everything wrong with `password`, in words a user can act on (empty list: fine)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if character_classes(password) < 3:
        problems.append(
            "must contain 3 of: lowercase letter, uppercase letter, digit, special character"
        )
    if password.lower() in common_passwords():
        problems.append("is too common; choose one that is not on lists of leaked passwords")
    return problems
