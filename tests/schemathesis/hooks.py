"""Schemathesis hooks of the conformance test: what the OpenAPI document states in words but cannot express."""

import re

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    """Runs before every call, in every phase."""
    _paging(case)
    _webhook_urls(case)


def _paging(case):
    """Paging of `GET /tasks` and of a task's history, which parameters alone cannot describe.

    - `page` (offset paging) and `cursor` (keyset paging) exclude each other (400): a request with both loses its
      `cursor`.
    - A cursor is valid only as the server issued it, for the same query: a generated one is 400 whatever it looks
      like, so it becomes `cursor=` (the first keyset page). The end-to-end suite tests real cursors.

    Any string is a schema-valid cursor, so neither change turns a request that breaks the schema into one that
    keeps it, nor the reverse.
    """
    if case.method.upper() != "GET" or not case.query or "cursor" not in case.query:
        return
    if case.path == "/tasks":
        if "page" in case.query:
            del case.query["cursor"]
        else:
            case.query["cursor"] = ""
    elif case.path == "/tasks/{id}/history":
        # The same for a task's history, whose cursors are bound to their task.
        case.query["cursor"] = ""


# The pattern of the `WebhookUrl` schema (components.schemas.WebhookUrl), and a public address literal.
_WEBHOOK_URL = re.compile(r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+(?:[/?#][^\s]*)?$")
_PUBLIC_RECEIVER = "https://1.1.1.1/hook"


def _webhook_urls(case):
    """Webhook URLs must be, and resolve only to, public addresses; the document says so in words. A generated host
    name does not resolve on a machine without DNS, so a schema-valid `url` becomes a public address literal (no
    lookup needed). An invalid `url` is left as it is, so negative cases stay negative.
    """
    is_webhook_write = (case.method.upper() == "POST" and case.path == "/webhooks") or (
        case.method.upper() == "PATCH" and case.path == "/webhooks/{id}"
    )
    if not is_webhook_write or not isinstance(case.body, dict):
        return
    url = case.body.get("url")
    if isinstance(url, str) and len(url) <= 2048 and _WEBHOOK_URL.match(url):
        case.body["url"] = _PUBLIC_RECEIVER
