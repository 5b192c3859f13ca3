"""A DONE row's fingerprints are written by hand (decision 0489): the very text `json.dumps`
wrote before, for every fingerprint, so journals read the same by every version."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from migrate.journal.fpjson import fingerprint_json
from migrate.model import Fingerprint

texts = st.text() | st.sampled_from(["sha256:" + "ab" * 32, "md5:0f", '"quoted"', "é\u2028\0"])


@given(st.none() | st.integers(), st.none() | st.floats() | st.integers(),
       st.none() | texts, st.none() | texts)
def test_the_same_text_as_json_dumps(size: int | None, mtime: float | None,
                                     checksum: str | None, etag: str | None) -> None:
    fingerprint = Fingerprint(size, mtime, checksum, etag)
    assert fingerprint_json(fingerprint) == json.dumps(fingerprint.to_json())


def test_read_back_as_it_was() -> None:
    for fingerprint in (Fingerprint(), Fingerprint(0, 0.0), Fingerprint(3, 1.7e9 + 0.123456789),
                        Fingerprint(None, math.inf), Fingerprint(True, None, "x", "y")):
        assert Fingerprint(**json.loads(fingerprint_json(fingerprint))) == fingerprint
