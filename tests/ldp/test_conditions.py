"""RFC 9110 §13.2.2 precondition evaluation, as a table."""

from __future__ import annotations

import pytest

from pod_server.errors import PreconditionFailed
from pod_server.ldp.conditions import NotModified, evaluate
from pod_server.ldp.model import Conditions
from pod_server.store.backend import Meta

META = Meta("/a", "text/plain", 1, 1_000_000.0, "abc")
OK, FAIL, NOT_MODIFIED = "ok", "412", "304"


@pytest.mark.parametrize(
    ("conditions", "meta", "safe", "outcome"),
    [
        (Conditions(if_match=("abc",)), META, False, OK),
        (Conditions(if_match=("xyz",)), META, False, FAIL),
        (Conditions(if_match=("*",)), META, False, OK),
        (Conditions(if_match=("*",)), None, False, FAIL),
        (Conditions(if_none_match=("*",)), None, False, OK),
        (Conditions(if_none_match=("*",)), META, False, FAIL),
        (Conditions(if_none_match=("abc",)), META, True, NOT_MODIFIED),
        (Conditions(if_none_match=("abc",)), META, False, FAIL),
        (Conditions(if_none_match=("xyz",)), META, True, OK),
        (Conditions(if_modified_since=2_000_000.0), META, True, NOT_MODIFIED),
        (Conditions(if_modified_since=10.0), META, True, OK),
        (Conditions(if_modified_since=2_000_000.0), META, False, OK),  # only for GET/HEAD
        (Conditions(if_unmodified_since=10.0), META, False, FAIL),
        (Conditions(if_unmodified_since=2_000_000.0), META, False, OK),
        # If-Match wins over If-Unmodified-Since; If-None-Match over If-Modified-Since.
        (Conditions(if_match=("abc",), if_unmodified_since=10.0), META, False, OK),
        (Conditions(if_none_match=("xyz",), if_modified_since=2_000_000.0), META, True, OK),
    ],
)
def test_evaluate(conditions: Conditions, meta: Meta | None, safe: bool, outcome: str) -> None:
    if outcome == OK:
        evaluate(conditions, meta, safe=safe)
    elif outcome == FAIL:
        with pytest.raises(PreconditionFailed):
            evaluate(conditions, meta, safe=safe)
    else:
        with pytest.raises(NotModified):
            evaluate(conditions, meta, safe=safe)
