"""Web origins (`scheme://host[:port]`): how browsers name a site in Origin headers, CORS and
`frame-ancestors`. ALLOWED_ORIGINS lists the other websites that may call the API from the browser
and show the booking pages in a frame."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower case, default ports left out (as browsers send it)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ""
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def parse_allowed_origins(raw: str | None) -> tuple[str, ...]:
    """ALLOWED_ORIGINS: comma-separated origins, each an http(s) scheme and a host (and a port), no
    path; written as a browser sends it (a trailing slash and upper case are forgiven)."""
    origins: list[str] = []
    for given in (raw or "").split(","):
        value = given.strip().rstrip("/")
        if not value:
            continue
        origin = origin_of(value)
        has_host = bool(urlsplit(value).hostname)
        if not (origin.startswith(("http://", "https://")) and has_host and origin == value.lower()):
            raise ValueError(
                f"ALLOWED_ORIGINS: {given.strip()!r} is not an origin such as https://www.example.org "
                "(a scheme and a host, maybe a port; no path and no *)."
            )
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)
