"""/embed.js: the script a practitioner pastes into their own website to show their booking page
inline (docs/embedding.md). It frames the page and sets the frame's height to what the page reports
(booking.js posts it); the booking pages may be framed by the ALLOWED_ORIGINS only."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCRIPT = Path(__file__).parent / "static" / "embed.js"
CACHE_SECONDS = 3600  # other sites load it on every visit; a new version reaches them within the hour

# The practitioner's booking page and the client's pages of the booking flow (never Checkout's
# stand-in, the practitioner's own pages or the API): what other websites may frame.
FRAMABLE_PATHS = (
    r"/book/[^/]+",
    r"/booking/success",
    r"/booking/cancelled",
    r"/booking/[^/]+/cancel",
    r"/booking/[^/]+/manage",  # the client's page of their booking, which the confirmation links to
)


async def embed_script(request: Request) -> Response:
    return Response(
        SCRIPT.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"},
    )


routes = [Route("/embed.js", embed_script, methods=["GET"])]
