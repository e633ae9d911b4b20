"""The web service: composition root, JSON API, booking pages, webhooks, CLI."""

from booking_adapters.extras import require

# What `booking serve` imports beyond the adapters' own extras.
require(
    __name__,
    (
        "starlette",
        "uvicorn",
        "jinja2",
        "multipart",
        "itsdangerous",
        "prometheus_client",
        "pythonjsonlogger",
        "limits",
        "redis",
    ),
    "server",
)
