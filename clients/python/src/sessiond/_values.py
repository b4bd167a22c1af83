"""Session values: Python objects in, JSON texts on the wire, one per key.

sessiond validates every value as JSON and returns it exactly as stored, so
the client's whole job is to encode strictly (no ``NaN``, string keys only)
and to say which key was at fault before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_decode = json.JSONDecoder().decode


def encode_value(key: str, value: Any) -> str:
    """``value`` as compact JSON; ``TypeError`` naming ``key`` if it has no
    JSON form (a set, a datetime, an object, ``NaN``)."""
    try:
        return _encoder.encode(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"session value for key {key!r} is not JSON-serializable: {error}"
        ) from None


def check_key(key: object) -> str:
    """``key`` if it can name a session value; ``TypeError`` otherwise.

    The server checks the rest (non-empty, at most its key-size limit).
    """
    if not isinstance(key, str):
        raise TypeError(f"session keys are strings, not {type(key).__name__}: {key!r}")
    return key


def encode_values(data: Mapping[str, Any]) -> dict[str, str]:
    """Every value of ``data`` encoded; nothing is sent if any one fails."""
    return {check_key(key): encode_value(key, value) for key, value in data.items()}


def decode_values(data: Mapping[str, str]) -> dict[str, Any]:
    """The stored JSON texts as Python objects."""
    return {key: _decode(text) for key, text in data.items()}


def check_keys(keys: Iterable[str]) -> list[str]:
    """``keys`` as a list, each checked by :func:`check_key`."""
    return [check_key(key) for key in keys]
