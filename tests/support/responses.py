"""Reading the API's answers in tests."""

from __future__ import annotations

import httpx


def error_code(response: httpx.Response, status: int) -> str:
    """The error envelope's `code`, once the status is checked: a failure names the request
    and shows the body, so a wrong status says what the server answered instead."""
    request = response.request
    assert response.status_code == status, (
        f"{request.method} {request.url.path}: {response.status_code} {response.text}"
    )
    code: str = response.json()["error"]["code"]
    return code
