"""Compare-and-delete on NATS KV, with the error nats-py leaves unconverted.

``KeyValue.create`` and ``update`` raise ``KeyWrongLastSequenceError`` when the key moved on, but
``delete(last=…)`` surfaces the broker's raw ``BadRequestError`` (JetStream error 10071), so a
"someone else has it now" would look like a failure to every caller.
"""

from __future__ import annotations

from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

WRONG_LAST_SEQUENCE = 10071
"""JetStream's error code for an expected-last-sequence header that does not match."""


async def delete_at_revision(kv: KeyValue, key: str, revision: int | None) -> bool:
    """Delete ``key`` only while its latest revision is ``revision``; False when it has moved on or gone.

    An entry read back always has a revision; without one nothing is deleted, since a delete without
    ``last`` would remove whatever is there now."""
    if not revision:
        return False
    try:
        await kv.delete(key, last=revision)
    except (KeyWrongLastSequenceError, KeyNotFoundError):
        return False
    except BadRequestError as error:
        if error.err_code != WRONG_LAST_SEQUENCE:
            raise
        return False
    return True
