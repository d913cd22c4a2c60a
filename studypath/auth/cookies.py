"""The session cookie: how the web app carries its session, out of reach of page scripts.

`POST /auth/login` answers the token in its body (the guide's clients send it back as
`Authorization: Bearer`) and also sets it as a cookie:

    Set-Cookie: studypath_session=<token>; HttpOnly; Max-Age=<session lifetime>; Path=/;
                SameSite=Strict[; Secure when the request came over https]

`HttpOnly`: no script of the page can read it, so a script injected into the page cannot
steal the session and use it elsewhere. But the browser sends a cookie by itself, so a
cookie-authenticated request might be one another site made the browser send (cross-site
request forgery). Two guards:

* `SameSite=Strict`: the browser sends the cookie only on requests that come from a page of
  the same *site* (scheme + registrable domain: other ports and subdomains are the same
  site, so this alone is not enough);
* `require_same_origin`: a cookie-authenticated request that changes something (any method
  but GET, HEAD, OPTIONS) must say where it comes from — `Origin`, or when a browser sends
  none, `Referer` — and that must be this server's own origin (scheme://host[:port]).

A bearer token or an API key is never sent by the browser on its own, so those requests
need no such check (curl and scripts work unchanged).
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlsplit

from fastapi import Request, Response

from studypath.core.errors import AppError, ErrorCode

SESSION_COOKIE = "studypath_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, host, port


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """Hand the browser its session; it keeps it `max_age` seconds (the session's lifetime)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    """Tell the browser to drop the cookie (`Max-Age=0`): its session has ended."""
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def clearing_header(request: Request) -> str:
    """The `Set-Cookie` value that drops the cookie, for an error answer (which has no
    `Response` object to call `clear_session_cookie` on)."""
    response = Response()
    clear_session_cookie(response, request)
    return response.headers["set-cookie"]


def parse_origin(value: str) -> Origin | None:
    """`scheme://host[:port]` of a URL or an `Origin` header, default port filled in; None
    for anything else (`null`, garbage, an unknown scheme)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def own_origin(request: Request) -> Origin | None:
    """This server's origin as the client addressed it (the scheme and `Host` it used)."""
    return parse_origin(f"{request.url.scheme}://{request.url.netloc}")


def forbidden(message: str) -> AppError:
    return AppError(ErrorCode.FORBIDDEN, message)


def require_same_origin(request: Request) -> None:
    """Refuse (403) a cookie-authenticated write whose `Origin` (or, without one, `Referer`)
    is not this server's own origin. Reads (GET, HEAD, OPTIONS) pass: they change nothing."""
    if request.method in SAFE_METHODS:
        return
    header = "Origin"
    sent = request.headers.get("origin")
    if sent is None:
        header, sent = "Referer", request.headers.get("referer")
    if sent is None:
        raise forbidden(
            "Cross-site request refused: a request authenticated by the session cookie that "
            "changes something must carry an Origin (or Referer) header; scripts should send "
            "'Authorization: Bearer <token>' instead"
        )
    expected = own_origin(request)
    if expected is None or parse_origin(sent) != expected:
        raise forbidden(
            f"Cross-site request refused: {header} {sent[:200]!r} is not this server's origin "
            f"({request.url.scheme}://{request.url.netloc}), and the request is authenticated "
            "by the session cookie"
        )


def cookieless_jar() -> CookieJar:
    """A cookie jar that keeps nothing, for script clients (the Workbench's, the tests'): they
    send the credentials they are given, never a session cookie a login answer left behind —
    "anonymous" stays anonymous after a login on the same client."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
