"""The one reader of request bodies for every route that is not GraphQL's (the TV's device
grant and portal, the partners' webhooks, the providers' receipts): JSON nested no deeper than
a limit, or a form. A body it cannot read is the sender's mistake, answered 400 by the route;
never a 500 with a traceback.

The size of a body is limited before anything reads it (backend.http_limits); the nesting is
limited here, because Python's parser recurses and a body of 60,000 "[" within the size
limit would otherwise exhaust its stack."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

MAX_DEPTH = 32  # no partner or door nests its JSON anywhere near this deep


class BadBody(ValueError):
    """Not JSON, not text, or nested deeper than MAX_DEPTH."""


def json_body(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadBody("nested too deep") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise BadBody(f"not JSON: {exc}") from None
    if _depth_over(data, max_depth):
        raise BadBody("nested too deep")
    return data


def _depth_over(data: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object (an empty body is an empty one); anything else is BadBody."""
    data = json_body(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise BadBody("not an object")
    return data


def fields(raw: bytes, content_type: str) -> dict[str, str]:
    """A flat body of fields, as a JSON object or a form (RFC 8628's clients send either):
    each field's text; a JSON body that is not an object is BadBody."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        data = json_object(raw)
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("not UTF-8") from None
    return {k: v[0] for k, v in parse_qs(text).items()}
