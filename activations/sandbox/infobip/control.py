"""The person's action in Infobip (noted, no webhook: SMS consent is the
warehouse's) and the state summary: tags with their people, events received."""

from __future__ import annotations

from typing import Any

from activations.sandbox import sms
from activations.sandbox.core import Sandbox
from activations.sandbox.infobip.wire import NAME

act = sms.act(NAME)


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    return sms.summarize(sb, NAME, limit)
