"""Asking for a sign-in link: how often (per e-mail address and per client address), and the e-mail
that carries the link. Neither the answer nor its timing may tell whether an address belongs to a
practitioner: the page answers alike, and the link is looked up and sent after the answer (a
background task). Addresses are never logged; the per-address limit is keyed by a hash (in Redis too,
when the limits are shared: booking_web/rate_limits.py)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from attrs import define

from booking_adapters.mail import Letter, MailComposer, MailTransport, MessageKind, Recipient
from booking_core import SIGN_IN_LINK_LIFETIME, IssuedToken, Practitioner, PractitionerAccess, ProviderError
from booking_web.rate_limits import Limit, RateLimits

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
# enough for a typo and a lost e-mail, not for a flood
LINKS_PER_ADDRESS = Limit("sign-in-address", 5, WINDOW_SECONDS)
REQUESTS_PER_CLIENT = Limit("sign-in-client", 20, WINDOW_SECONDS)  # whatever the addresses
SIGN_IN_PATH = "/practitioner/sign-in"
_MINUTE = timedelta(minutes=1)


def _address_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@define
class SignInRequests:
    access: PractitionerAccess
    transport: MailTransport
    composer: MailComposer
    public_base_url: str
    limits: RateLimits

    async def seconds_until_allowed(self, email: str, client_address: str) -> float:
        """0 if this request may go ahead (and count), else how long to wait."""
        wait = await self.limits.seconds_until_allowed(REQUESTS_PER_CLIENT, client_address)
        return wait or await self.limits.seconds_until_allowed(LINKS_PER_ADDRESS, _address_key(email))

    async def send_link(self, email: str) -> None:
        """E-mail a sign-in link to the practitioner with this address, if there is one."""
        found = await self.access.sign_in_link_for(email)
        if found is None:
            log.info("sign-in link asked for an address no practitioner has")
            return
        practitioner, issued = found
        try:
            await self.transport.send(self.composer.compose(self._letter(practitioner, issued)))
        except ProviderError as error:
            log.warning("sign-in e-mail to practitioner %s failed: %s", practitioner.id, error.message)
            return
        log.info("sign-in link sent to practitioner %s", practitioner.id)

    def link(self, token: str) -> str:
        return f"{self.public_base_url}{SIGN_IN_PATH}?{urlencode({'token': token})}"

    def _letter(self, practitioner: Practitioner, issued: IssuedToken) -> Letter:
        assert practitioner.email is not None  # the link was found by it
        host = urlsplit(self.public_base_url).hostname or "localhost"
        created: datetime = issued.credential.created_at
        return Letter(
            kind=MessageKind.SIGN_IN_LINK,
            to=Recipient(practitioner.name, practitioner.email),
            context={
                "practitioner_name": practitioner.name,
                "link": self.link(issued.token),
                "minutes": SIGN_IN_LINK_LIFETIME // _MINUTE,
            },
            # from the hash, never the secret: the id reveals nothing
            message_id=f"<{hashlib.sha256(issued.credential.token_hash.encode()).hexdigest()[:40]}@{host}>",
            date=created,
        )
