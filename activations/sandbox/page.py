"""The marketer page: each provider's lists, segments, tags (Infobip) or audiences
(Twilio) with member counts, and their members with attributes and consent, as
a marketer would see them; an SMS provider's members are shown by phone, with
the events its flows or journeys received.

Server-rendered with Jinja2 (autoescaped), inline CSS, no network.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from activations.sandbox.common import iso
from activations.sandbox.settings import PROVIDERS, SMS

TITLES = {"braze": "Braze", "klaviyo": "Klaviyo", "mailchimp": "Mailchimp",
          "sendgrid": "SendGrid", "customerio": "Customer.io",
          "infobip": "Infobip (SMS)", "twilio": "Twilio Engage (SMS, via Segment)"}

_env = Environment(loader=PackageLoader("activations.sandbox", "templates"),
                   autoescape=select_autoescape(["html"]))

router = APIRouter()


def render(state: dict[str, Any], *, members_shown: int) -> str:
    providers = []
    for name in PROVIDERS:
        summary = state["providers"].get(name)
        if summary is None:
            continue
        columns: list[str] = []
        for row in summary["lists"]:
            for member in row["members"]:
                for key in member["attributes"]:
                    if key not in columns:
                        columns.append(key)
        providers.append({"name": name, "title": TITLES[name], "summary": summary,
                          "columns": columns[:8], "sms": name in SMS})
    return _env.get_template("page.html").render(
        providers=providers, members_shown=members_shown, iso=iso)


@router.get("/", response_class=HTMLResponse)
async def page(request: Request, members: int = Query(default=50, ge=0, le=1000)) -> HTMLResponse:
    sb = request.app.state.sandbox
    if sb.config()["job_advance"] == "clock":
        sb.jobs.catch_up()
    state = {"providers": {name: spec.summarize(sb, members)
                           for name, spec in sb.providers.items()}}
    return HTMLResponse(render(state, members_shown=members))
