"""Signing in over HTTP in tests."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.identity.roles import Role
from studypath.testing.factories import DEFAULT_PASSWORD, make_user


async def signed_in(
    client: httpx.AsyncClient,
    session: AsyncSession,
    role: Role = Role.USER,
    username: str = "alice",
) -> dict[str, str]:
    """A new user, signed in through the real `POST /auth/login`: its bearer header."""
    await make_user(session, username=username, role=role)
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['session_token']}"}
