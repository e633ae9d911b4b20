"""Environment -> Settings, validated at start-up; every problem is reported at once."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from attrs import field, frozen

from booking_adapters.calcom import CalcomSettings
from booking_adapters.mail import SmtpSettings
from booking_adapters.outgoing_webhooks import parse_webhook_urls
from booking_web import availability_cache
from booking_web.logs import LOG_FORMATS
from booking_web.origins import parse_allowed_origins

T = TypeVar("T")

_DATABASE_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgres", "postgresql", "postgresql+psycopg")
_REDIS_SCHEMES = ("redis", "rediss", "unix")
_LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
_KEY_PREFIXES = ("sk_test_", "rk_test_", *_LIVE_KEY_PREFIXES)
MIN_SECRET_LENGTH = 32


class ConfigurationError(Exception):
    """The service cannot start as configured; `problems` lists every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def __str__(self) -> str:
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        return f"The booking service cannot start:\n{lines}"


DEFAULT_PRIVACY_NOTICE = (
    "Your name, e-mail address and phone number go to the practitioner, only to arrange this session "
    "and to reach you about it. You may ask for a copy of them, or for their erasure, at any time."
)
MAX_PRIVACY_NOTICE = 1000
MAX_RETENTION_DAYS = 36_500


@frozen
class Settings:
    """What the service is configured with. The defaults are development mode (see `development`):
    an SQLite file under `data_dir`, schedule availability, local test payments, demo practitioners."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    # Secrets (and URLs that may carry a password) stay out of reprs: tracebacks and logs show them.
    database_url: str | None = field(default=None, repr=False)  # None: the embedded SQLite file
    booking_secret_key: str | None = field(default=None, repr=False)  # None: generated once, in data_dir
    stripe_secret_key: str | None = field(default=None, repr=False)  # None: local test payments
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None
    stripe_timeout_seconds: float = 10.0  # per attempt; the SDK tries up to 3 times
    max_body_bytes: int = 64 * 1024
    booking_rate_limit_per_minute: int = 10
    # None: rate limits counted per worker, in memory; else in Redis, shared by every worker and host
    redis_url: str | None = field(default=None, repr=False)  # may carry a password
    redis_key_prefix: str = "booking"  # several services (or test runs) on one Redis keep apart
    calendar_feed_rate_limit_per_minute: int = 60  # calendar apps poll every few minutes at most
    booking_link_rate_limit_per_minute: int = 30  # a client's booking pages: a week per click
    hold_limit_per_client: int = 2  # live unpaid holds per e-mail, phone and client address
    hold_limit_practitioner_share: float = 0.5  # of a practitioner's slots in the week around one
    free_booking_limit_per_client: int = 2  # free bookings still to come per practitioner and client
    housekeeping_seconds: float = 45.0
    outbox_seconds: float = 5.0
    availability_cache_seconds: float = availability_cache.DEFAULT_SECONDS  # at most; 0: no cache
    log_level: str = "INFO"
    log_format: str = "auto"  # auto: text on a terminal, JSON lines otherwise
    access_log: bool = (
        True  # one line per request; off behind a proxy that logs them (~25 % of a cached read)
    )
    smtp_url: str | None = field(default=None, repr=False)  # None: e-mails go to the mailbox folder
    mail_from: str | None = None  # None: Bookings <bookings@{host of PUBLIC_BASE_URL}>
    webhook_urls: tuple[str, ...] = field(default=(), repr=False)  # URLs may carry credentials
    webhook_secret: str | None = field(default=None, repr=False)  # None: generated once, kept in data_dir
    calcom: CalcomSettings = field(factory=CalcomSettings)
    forwarded_allow_ips: str | None = None  # None: X-Forwarded-* headers are ignored
    metrics_token: str | None = field(default=None, repr=False)  # None: /metrics in development only
    # other websites that may call /api/* from the browser and frame the booking pages
    allowed_origins: tuple[str, ...] = ()
    # Days after a session's end until its client's details are anonymised (None: kept; docs/privacy.md)
    client_data_retention_days: int | None = None
    privacy_notice: str = DEFAULT_PRIVACY_NOTICE  # under the booking form's details
    privacy_notice_url: str | None = None  # "Privacy notice" link after it (None: no link)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def development(self) -> bool:
        """The one switch for the conveniences of a developer's machine: demo practitioners (seeded
        into an empty database), local test payments and /dev/mailbox. On when nothing points at
        real data or money (no DATABASE_URL, no STRIPE_SECRET_KEY) and nobody else can reach the
        service (bound to a loopback address, no https PUBLIC_BASE_URL)."""
        return not self._development_blockers()

    def _development_blockers(self) -> list[str]:
        """Why this is not development mode, one reason each (none: it is)."""
        blockers = []
        if self.database_url is not None:
            blockers.append("DATABASE_URL is set")
        if self.stripe_secret_key is not None:
            blockers.append("STRIPE_SECRET_KEY is set")
        if not is_loopback(self.host):
            blockers.append(f"HOST {self.host} is not a loopback address")
        if self.https:
            blockers.append("PUBLIC_BASE_URL is https")
        return blockers

    def serving_problems(self) -> list[str]:
        """What stops `booking serve` (and only it: `booking db upgrade` on a host without Stripe
        keys is fine). Local test payments confirm bookings for free, so they never face the public."""
        if self.stripe_secret_key is not None or self.development:
            return []
        public = [b for b in self._development_blockers() if not b.startswith("STRIPE_SECRET_KEY")]
        return [
            "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are required here ("
            + "; ".join(public)
            + "): without them anyone could confirm bookings on the local test-payment page without "
            "paying. Local test payments are for development mode only: no DATABASE_URL, HOST "
            "127.0.0.1 (or another loopback address) and an http PUBLIC_BASE_URL."
        ]

    @property
    def mode(self) -> str:
        """What `booking serve` says at start-up about the switch."""
        if self.development:
            return (
                "development mode: demo practitioners, local test payments and /dev/mailbox "
                "(set DATABASE_URL or STRIPE_SECRET_KEY, or bind to a public address, to leave it)"
            )
        return "production mode: " + "; ".join(self._development_blockers())

    @property
    def uses_stripe(self) -> bool:
        return self.stripe_secret_key is not None

    @property
    def client_data_retention(self) -> timedelta | None:
        days = self.client_data_retention_days
        return None if days is None else timedelta(days=days)

    @property
    def https(self) -> bool:
        return self.public_base_url.startswith("https://")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "booking.db"

    @property
    def database_location(self) -> str:
        """The one place the database URL is derived: DATABASE_URL as given (the adapter accepts
        postgresql://user@host/db and picks its driver), else the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{self.sqlite_path.resolve()}"

    @property
    def database_is_shared(self) -> bool:
        """PostgreSQL: other processes write too, and announce their changes (migration 0002)."""
        return self.database_url is not None and self.database_url.startswith("postgres")

    @property
    def mailbox_dir(self) -> Path:
        """Where e-mails go without SMTP_URL."""
        return self.data_dir / "mailbox"

    @property
    def serves_mailbox_page(self) -> bool:
        """/dev/mailbox shows clients' names and addresses: only in development mode."""
        return self.development and self.smtp_url is None

    @property
    def sender(self) -> str:
        host = urlsplit(self.public_base_url).hostname or "localhost"
        return self.mail_from or f"Bookings <bookings@{host}>"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check every variable; raise ConfigurationError listing all problems."""
        settings, problems = cls.read(env)
        if problems:
            raise ConfigurationError(problems)
        return settings

    @classmethod
    def read(cls, env: Mapping[str, str]) -> tuple[Settings, list[str]]:
        """Settings (defaults standing in for unreadable values) and every problem found."""
        reader = _Reader(env)
        default = cls()  # each default is written once, on the field
        host = reader.text("HOST", default.host)
        port = reader.number("PORT", default.port, int, 1, 65535)
        local_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (a bind-all address is not a URL host)
        settings = cls(
            host=host,
            port=port,
            public_base_url=reader.text("PUBLIC_BASE_URL", f"http://{local_host}:{port}").rstrip("/"),
            data_dir=Path(reader.text("BOOKING_DATA_DIR", str(default.data_dir))),
            database_url=reader.optional("DATABASE_URL"),
            booking_secret_key=reader.optional("BOOKING_SECRET_KEY"),
            stripe_secret_key=reader.optional("STRIPE_SECRET_KEY"),
            stripe_webhook_secret=reader.optional("STRIPE_WEBHOOK_SECRET"),
            stripe_api_base=reader.optional("STRIPE_API_BASE"),
            stripe_timeout_seconds=reader.number(
                "STRIPE_TIMEOUT_SECONDS", default.stripe_timeout_seconds, float, 1.0, 80.0
            ),
            max_body_bytes=reader.number(
                "MAX_BODY_BYTES", default.max_body_bytes, int, 1024, 10 * 1024 * 1024
            ),
            booking_rate_limit_per_minute=reader.number(
                "BOOKING_RATE_LIMIT_PER_MINUTE", default.booking_rate_limit_per_minute, int, 1, 10_000
            ),
            redis_url=reader.optional("REDIS_URL"),
            redis_key_prefix=reader.text("REDIS_KEY_PREFIX", default.redis_key_prefix),
            calendar_feed_rate_limit_per_minute=reader.number(
                "CALENDAR_FEED_RATE_LIMIT_PER_MINUTE",
                default.calendar_feed_rate_limit_per_minute,
                int,
                1,
                10_000,
            ),
            booking_link_rate_limit_per_minute=reader.number(
                "BOOKING_LINK_RATE_LIMIT_PER_MINUTE",
                default.booking_link_rate_limit_per_minute,
                int,
                1,
                10_000,
            ),
            hold_limit_per_client=reader.number(
                "HOLD_LIMIT_PER_CLIENT", default.hold_limit_per_client, int, 1, 10_000
            ),
            hold_limit_practitioner_share=reader.number(
                "HOLD_LIMIT_PRACTITIONER_SHARE", default.hold_limit_practitioner_share, float, 0.01, 1.0
            ),
            free_booking_limit_per_client=reader.number(
                "FREE_BOOKING_LIMIT_PER_CLIENT", default.free_booking_limit_per_client, int, 1, 10_000
            ),
            housekeeping_seconds=reader.number(
                "HOUSEKEEPING_INTERVAL_SECONDS", default.housekeeping_seconds, float, 1.0, 3600.0
            ),
            outbox_seconds=reader.number(
                "OUTBOX_INTERVAL_SECONDS", default.outbox_seconds, float, 0.5, 3600.0
            ),
            availability_cache_seconds=reader.number(
                "AVAILABILITY_CACHE_SECONDS", default.availability_cache_seconds, float, 0.0, 3600.0
            ),
            log_level=reader.text("LOG_LEVEL", default.log_level).upper(),
            log_format=reader.text("LOG_FORMAT", default.log_format).lower(),
            access_log=reader.flag("ACCESS_LOG", default.access_log),
            smtp_url=reader.checked("SMTP_URL", SmtpSettings.from_url),
            mail_from=reader.optional("MAIL_FROM"),
            webhook_urls=tuple(reader.parsed("WEBHOOK_URLS", parse_webhook_urls, [])),
            webhook_secret=reader.optional("WEBHOOK_SECRET"),
            calcom=reader.group("CALCOM_", CalcomSettings.from_env, default.calcom),
            forwarded_allow_ips=reader.optional("FORWARDED_ALLOW_IPS"),
            metrics_token=reader.optional("METRICS_TOKEN"),
            allowed_origins=reader.parsed("ALLOWED_ORIGINS", parse_allowed_origins, ()),
            client_data_retention_days=reader.parsed("CLIENT_DATA_RETENTION_DAYS", _retention_days, None),
            privacy_notice=reader.text("PRIVACY_NOTICE", default.privacy_notice),
            privacy_notice_url=reader.optional("PRIVACY_NOTICE_URL"),
        )
        return settings, reader.problems + settings.problems()

    def database_url_problem(self) -> str | None:
        """What makes DATABASE_URL unusable, never showing the URL (it may carry a password)."""
        if self.database_url is None:
            return None
        scheme = self.database_url.partition("://")[0]
        if scheme not in _DATABASE_SCHEMES:
            return f"DATABASE_URL must start with postgresql:// or sqlite://, not {scheme or '(nothing)'}://."
        if "@" in urlsplit(self.database_url).netloc.rpartition("@")[0]:
            # Drivers would cut the password at its first "@" and show the rest as the host name.
            return (
                "DATABASE_URL: the user name or password holds an '@'; write it as %40 "
                "(postgresql://user:p%40ss@host/db)."
            )
        return None

    def without_database_password(self, text: str) -> str:
        """`text` (a driver's error message) with the DATABASE_URL password masked, in every form."""
        password = urlsplit(self.database_url or "").password
        if not password:
            return text
        for form in sorted({password, unquote(password)}, key=len, reverse=True):
            text = text.replace(form, "***")
        return text

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Host header values the pages answer to: the links they build take the host from it."""
        public = urlsplit(self.public_base_url).hostname or ""
        local = {"127.0.0.1", "localhost", "::1"} if self.development else set()
        return frozenset({public, *local} - {""})

    def problems(self) -> list[str]:
        """What is wrong with a combination of values (each value alone was read fine)."""
        problems = []
        url = urlsplit(self.public_base_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            problems.append(f"PUBLIC_BASE_URL {self.public_base_url!r} is not an http(s) URL.")
        database_problem = self.database_url_problem()
        if database_problem:
            problems.append(database_problem)
        if self.redis_url is not None and urlsplit(self.redis_url).scheme not in _REDIS_SCHEMES:
            scheme = urlsplit(self.redis_url).scheme or "(nothing)"
            problems.append(f"REDIS_URL must start with redis://, rediss:// or unix://, not {scheme}://.")
        if self.database_is_shared and self.booking_secret_key is None:
            problems.append(
                "BOOKING_SECRET_KEY is required with a PostgreSQL DATABASE_URL, so that every worker "
                "and host signs cancel links with the same key."
            )
        if self.booking_secret_key is not None and len(self.booking_secret_key) < MIN_SECRET_LENGTH:
            problems.append(f"BOOKING_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters.")
        if self.stripe_secret_key is not None:
            if not self.stripe_secret_key.startswith(_KEY_PREFIXES):
                problems.append(
                    "STRIPE_SECRET_KEY does not look like a Stripe key (sk_test_... or sk_live_...)."
                )
            if self.stripe_webhook_secret is None:
                problems.append(
                    "STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET: payments could never be "
                    "confirmed. Copy the signing secret (whsec_...) of your webhook endpoint."
                )
            if self.stripe_secret_key.startswith(_LIVE_KEY_PREFIXES) and not self.https:
                problems.append("A live STRIPE_SECRET_KEY needs an https:// PUBLIC_BASE_URL.")
        if self.webhook_urls and self.webhook_secret is None and not self.embedded:
            problems.append(
                "WEBHOOK_URLS is set without WEBHOOK_SECRET: give every subscriber the same secret "
                "(e.g. whsec_ followed by 32 random characters) so that they can verify the signature."
            )
        if self.webhook_secret is not None and len(self.webhook_secret) < MIN_SECRET_LENGTH:
            problems.append(f"WEBHOOK_SECRET must have at least {MIN_SECRET_LENGTH} characters.")
        if self.mail_from is not None and "@" not in parseaddr(self.mail_from)[1]:
            problems.append(
                f"MAIL_FROM {self.mail_from!r} holds no address, e.g. Bookings <bookings@example.org>."
            )
        if self.log_format not in LOG_FORMATS:
            problems.append(f"LOG_FORMAT {self.log_format!r} is not one of {', '.join(LOG_FORMATS)}.")
        if self.metrics_token is not None and len(self.metrics_token) < MIN_SECRET_LENGTH:
            problems.append(f"METRICS_TOKEN must have at least {MIN_SECRET_LENGTH} characters.")
        if self.privacy_notice_url is not None and urlsplit(self.privacy_notice_url).scheme not in (
            "http",
            "https",
        ):
            problems.append(f"PRIVACY_NOTICE_URL {self.privacy_notice_url!r} is not an http(s) URL.")
        if len(self.privacy_notice) > MAX_PRIVACY_NOTICE:
            problems.append(f"PRIVACY_NOTICE may have at most {MAX_PRIVACY_NOTICE} characters.")
        if logging.getLevelName(self.log_level) == f"Level {self.log_level}":
            problems.append(f"LOG_LEVEL {self.log_level!r} is not one of DEBUG, INFO, WARNING, ERROR.")
        return problems


def _retention_days(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_RETENTION_DAYS:
        raise ValueError(
            f"must be a whole number of days from 1 to {MAX_RETENTION_DAYS} (unset: keep), not {raw!r}."
        )
    return int(raw)


def is_loopback(host: str) -> bool:
    """Whether `host` (a HOST value) only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # another name: it may resolve to anything
        return False


class _Reader:
    """Reads variables, noting each unreadable one instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def parsed(self, name: str, parse: Callable[[str | None], T], default: T) -> T:
        """`parse` the variable (None when unset); a ValueError becomes a problem, `default` stands in."""
        try:
            return parse(self.optional(name))
        except ValueError as error:
            self.invalid(name, error)
            return default

    def group(self, prefix: str, parse: Callable[[Mapping[str, str]], T], default: T) -> T:
        """Variables named `prefix...`, read by an adapter's own settings class."""
        try:
            return parse(self.env)
        except ValueError as error:
            self.invalid(prefix, error)
            return default

    def checked(self, name: str, check: Callable[[str], object]) -> str | None:
        """The variable as given if `check` accepts it, else None and a problem."""
        value = self.optional(name)
        if value is not None and self.parsed(name, lambda raw: check(str(raw)), None) is None:
            return None
        return value

    def invalid(self, name: str, error: ValueError) -> None:
        message = str(error)
        self.problems.append(message if name in message else f"{name}: {message}")

    def flag(self, name: str, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "1", "yes", "on"):
            return True
        if raw.lower() in ("false", "0", "no", "off"):
            return False
        self.problems.append(f"{name} must be true or false, not {raw!r}.")
        return default

    def number(self, name: str, default: T, kind: Callable[[str], T], low: T, high: T) -> T:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = kind(raw)
        except ValueError:
            self.problems.append(f"{name} must be a number, not {raw!r}.")
            return default
        if not low <= value <= high:  # type: ignore[operator]
            self.problems.append(f"{name} must be between {low} and {high}, not {raw}.")
            return default
        return value
