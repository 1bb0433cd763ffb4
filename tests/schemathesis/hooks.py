"""Schemathesis hooks of the conformance test: what the OpenAPI document states in words but cannot express."""

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    """Paging of `GET /tasks`, which parameters alone cannot describe. Runs before every call, in every phase.

    - `page` (offset paging) and `cursor` (keyset paging) exclude each other (400): a request with both loses its
      `cursor`.
    - A cursor is valid only as the server issued it, for the same query: a generated one is 400 whatever it looks
      like, so it becomes `cursor=` (the first keyset page). The end-to-end suite tests real cursors.

    Any string is a schema-valid cursor, so neither change turns a request that breaks the schema into one that
    keeps it, nor the reverse.
    """
    if case.method.upper() == "GET" and case.path == "/tasks" and case.query and "cursor" in case.query:
        if "page" in case.query:
            del case.query["cursor"]
        else:
            case.query["cursor"] = ""
