"""The person's action in Twilio Engage (noted, no webhook: SMS consent is the
warehouse's) and the state summary: audiences (boolean traits) with their
profiles, events received, and the debugger (dropped messages, warnings)."""

from __future__ import annotations

from typing import Any

from activations.sandbox import sms
from activations.sandbox.core import Sandbox
from activations.sandbox.twilio.wire import NAME

act = sms.act(NAME)


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    summary = sms.summarize(sb, NAME, limit)
    summary["debugger"] = [
        {"kind": e["name"][1:], "person": e["contact_id"], **e["payload"]}
        for e in sb.store.events(NAME) if e["name"] in ("$dropped", "$warning")][-limit:]
    return summary
