"""Where a marketer sees a sync's destination: the sandbox page, or the
provider's own page for the list, segment or event."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

# the provider's web app page for a destination id
PROVIDER_PAGES = {
    "klaviyo": "https://www.klaviyo.com/list/{id}",
    "mailchimp": "https://admin.mailchimp.com/lists/members/?id={id}",
    "sendgrid": "https://mc.sendgrid.com/contacts/lists/{id}",
    "braze": "https://dashboard.braze.com/users/user_search",
    "customerio": "https://fly.customer.io/",
}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def destination_link(provider: str, destination: str, base_url: str) -> str:
    """The sandbox page when ``base_url`` is local, else the provider's page
    (empty when there is none, e.g. a file or a webhook)."""
    parts = urlsplit(base_url)
    if parts.hostname in LOCAL_HOSTS:
        return f"{parts.scheme}://{parts.netloc}/"
    page = PROVIDER_PAGES.get(provider)
    return page.format(id=quote(destination, safe="")) if page else ""
