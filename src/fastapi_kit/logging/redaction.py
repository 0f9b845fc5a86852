"""A structlog processor that keeps secrets out of every log event."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger

__all__ = ("REDACTED", "redact_sensitive")

#: What a redacted value is replaced with.
REDACTED = "[REDACTED]"

# Key names whose values are never logged, whatever their type or nesting.
_SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|authorization|cookie|api[-_]?key|credential|"
    r"session|private[-_]?key|signature",
    re.IGNORECASE,
)
# Credentials inside strings: bearer/basic credentials, JWTs (three base64url
# segments, the first an encoded `{"`), and `name=value` pairs whose name is
# sensitive (query strings, DSNs, form bodies); and passwords in URLs.
_SENSITIVE_VALUE = re.compile(
    r"(?i:\b(?:bearer|basic)\s+)[\w.~+/=-]{8,}"
    r"|eyJ[\w-]*\.[\w-]+\.[\w-]*"
)
_SENSITIVE_PAIR = re.compile(
    r"(?i)(\b[\w-]*(?:pass(?:word|wd)?|secret|token|api[-_]?key|session|signature)[\w-]*=)"
    r"[^&\s\"';,]+"
)
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^@\s/]+@")
# Containers nested deeper than this are not walked, so not logged either.
_MAX_DEPTH = 16
_TOO_DEEP = "[TOO DEEP]"
_PLAIN = frozenset({int, float, bool, type(None)})


# Verdicts per key name: the same few keys recur in every event.
_key_verdicts: dict[str, bool] = {}
_MAX_REMEMBERED_KEYS = 4096


def _is_sensitive_key(key: str) -> bool:
    verdict = _key_verdicts.get(key)
    if verdict is None:
        verdict = _SENSITIVE_KEY.search(key) is not None
        if len(_key_verdicts) >= _MAX_REMEMBERED_KEYS:
            _key_verdicts.clear()
        _key_verdicts[key] = verdict
    return verdict


def _redact_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _redact_text(value)
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, bytes):
        return _redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, dict | list | tuple) and depth >= _MAX_DEPTH:
        return _TOO_DEEP
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and _is_sensitive_key(key)
            else _redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_item(item, depth + 1) for item in value]
    # Any other object would be rendered through its repr: check that text.
    return _redact_text(repr(value))


def _redact_text(text: str) -> str:
    # Cheap substring tests first: most values hold no marker at all.
    if "eyJ" in text or "earer" in text or "asic" in text:
        text = _SENSITIVE_VALUE.sub(REDACTED, text)
    if "=" in text:
        text = _SENSITIVE_PAIR.sub(rf"\1{REDACTED}", text)
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    return text


def _redact_item(item: Any, depth: int) -> Any:
    # Header lists come as (name, value) pairs: judge the value by the name.
    if isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], str | bytes):
        name = item[0].decode("latin-1") if isinstance(item[0], bytes) else item[0]
        if _is_sensitive_key(name):
            return [name, REDACTED]
    return _redact_value(item, depth)


def redact_sensitive(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace secrets in an event with ``[REDACTED]``.

    Values under sensitive keys (``password``, ``token``, ``authorization``,
    ``cookie``, ``secret``, ``api_key``, ...) are dropped at any depth, ``(name,
    value)`` header pairs are judged by name, and bearer credentials or JWTs are
    masked wherever they appear in strings, the message and tracebacks included.
    """
    for key, value in event_dict.items():
        if _is_sensitive_key(key):
            event_dict[key] = REDACTED
        elif type(value) is str:  # the common case, inlined
            event_dict[key] = _redact_text(value)
        elif type(value) not in _PLAIN:
            event_dict[key] = _redact_value(value, 0)
    return event_dict
