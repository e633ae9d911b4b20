"""/dev/mailbox: the e-mails the embedded default wrote to its mailbox folder, so a newcomer sees
what the client and the practitioner would get. Mounted only when there is no SMTP_URL; the folder
comes from `request.app.state.mailbox_dir`."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import anyio.to_thread
import jinja2
from attrs import frozen
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from booking_adapters.mail.copies import MAILBOX_FILE, mailbox_files, plain_text, read_message

_LISTED = 200

_PAGES = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_LIST = _PAGES.from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mailbox</title></head>
<body style="font-family: sans-serif; max-width: 60em; margin: 2em auto;">
<h1>Mailbox</h1>
<p>E-mails this instance would have sent. Set SMTP_URL to send them for real.</p>
{% if letters %}<table cellpadding="6">
<tr><th align="left">Date</th><th align="left">To</th><th align="left">Subject</th></tr>
{% for letter in letters %}<tr><td>{{ letter.date }}</td><td>{{ letter.to }}</td>
<td><a href="/dev/mailbox/{{ letter.name }}">{{ letter.subject }}</a></td></tr>
{% endfor %}</table>{% else %}<p>No messages yet.</p>{% endif %}
</body></html>"""
)
_MESSAGE = _PAGES.from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ letter.subject }}</title></head>
<body style="font-family: sans-serif; max-width: 60em; margin: 2em auto;">
<p><a href="/dev/mailbox">&larr; Mailbox</a></p>
<h1>{{ letter.subject }}</h1>
<p>To: {{ letter.to }}<br>Date: {{ letter.date }}</p>
<pre style="white-space: pre-wrap; background: #f6f6f6; padding: 1em;">{{ text }}</pre>
{% if attachments %}<p>Attachments: {{ attachments | join(", ") }}</p>{% endif %}
<p><a href="/dev/mailbox/{{ letter.name }}?raw=1">Download the .eml</a> (opens in any mail program)</p>
</body></html>"""
)


@frozen
class _Letter:
    name: str
    to: str
    subject: str
    date: str
    sort_key: float


def _folder(request: Request) -> Path:
    return Path(request.app.state.mailbox_dir)


def _summary(name: str, message: EmailMessage) -> _Letter:
    try:
        sent = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):
        sent = None
    return _Letter(
        name=name,
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or "(no subject)"),
        date=f"{sent:%Y-%m-%d %H:%M %Z}" if sent else "",
        sort_key=sent.timestamp() if sent else 0.0,
    )


def _list_folder(folder: Path) -> list[_Letter]:
    letters = [_summary(path.name, read_message(path)) for path in mailbox_files(folder)]
    return sorted(letters, key=lambda letter: letter.sort_key, reverse=True)[:_LISTED]


async def mailbox(request: Request) -> Response:
    letters = await anyio.to_thread.run_sync(_list_folder, _folder(request))
    return HTMLResponse(_LIST.render(letters=letters), headers={"Cache-Control": "no-store"})


async def message(request: Request) -> Response:
    name = request.path_params["name"]
    path = _folder(request) / name
    if not MAILBOX_FILE.match(name) or not await anyio.to_thread.run_sync(path.is_file):
        raise HTTPException(404, "There is no such message.")
    if request.query_params.get("raw"):
        raw = await anyio.to_thread.run_sync(path.read_bytes)
        return Response(
            raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
    parsed = await anyio.to_thread.run_sync(read_message, path)
    text = plain_text(parsed)
    attachments = [part.get_filename() or part.get_content_type() for part in parsed.iter_attachments()]
    page = _MESSAGE.render(letter=_summary(name, parsed), text=text, attachments=attachments)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


routes = [
    Route("/dev/mailbox", mailbox, methods=["GET"]),
    Route("/dev/mailbox/{name}", message, methods=["GET"]),
]
