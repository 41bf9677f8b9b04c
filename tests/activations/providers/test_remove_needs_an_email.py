"""Regression: Mailchimp, Klaviyo and SendGrid remove people by email. A removal
record with no email (and no ESP id) used to come back confirmed ("not a member,
so gone") while the person stayed on the list; now it is rejected with the
reason and nobody leaves the list by mistake or stays there unreported."""

from __future__ import annotations

import dataclasses

import pytest
from connector_helpers import DESTINATION, member_emails, people

from activations.providers.connector_helpers import NO_EMAIL_TO_REMOVE


@pytest.mark.parametrize("name", ["mailchimp", "klaviyo", "sendgrid"])
def test_a_removal_without_an_email_is_rejected_not_confirmed(name, connector, sandbox) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    batch = people(3)
    assert {o.status for o in provider.upsert(dest, batch)} == {"confirmed"}
    nameless = dataclasses.replace(batch[0], email=None, destination_id=None)
    outcomes = {o.key: o for o in provider.remove(dest, [nameless, batch[1]])}
    assert outcomes[nameless.key].status == "rejected"
    assert outcomes[nameless.key].reason == NO_EMAIL_TO_REMOVE
    assert outcomes[batch[1].key].status == "confirmed"
    # the person without an email is still a member; the other one left
    assert member_emails(sandbox, name, dest) == {batch[0].email, batch[2].email}
