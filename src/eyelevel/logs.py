"""Structured JSON logs (structlog), redacted before they are written.

Events name what happened; callers log ids, counts and error class names, never message text,
passwords, tokens or personal data. The redaction below is the safety net for what slips
through, applied to eyelevel's structlog events *and* to every standard-library record
(uvicorn, httpx, asyncio …), which are rendered through the same chain as JSON lines:

- **Sensitive keys**: the value (whatever its type) of any key with one of the words in
  ``SENSITIVE_WORDS`` (``display_name``, ``email``, ``session_token``, ``api_key`` …; split at
  ``_ - .``) or one of ``SENSITIVE_KEYS`` becomes ``[redacted]``, in nested dicts and lists too.
- **Secrets inside any string** (the event, every value): eyelevel tokens (``els_…`` sessions,
  ``elt_…`` API tokens, ``eli_…`` invitations — any ``el?_`` prefix), ``Bearer``/``Basic``
  credentials, ``password=…``/``token: …``-style pairs (also cookies such as
  ``eyelevel_session=…``), long hex strings (hashes, signatures, e-mail verification tokens),
  e-mail addresses, and the query string of any URL or path.
- **Exceptions** keep their traceback (file, line, function) and class names, but not their
  messages: those routinely carry SQL parameters and the input that failed.
- **uvicorn** lines (access log, WebSocket handshakes) lose the client address and the query
  string. ``eyelevel serve`` leaves uvicorn's access log off: the app logs route templates.
- **Level** ``debug`` applies to eyelevel's events; libraries log from ``info`` up, as their
  debug output carries WebSocket frames, SQL and bodies.

Display names, message text and phone numbers have no pattern: they are caught by key only,
so log ids, never such values.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import traceback
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
_WORDS = (
    "address authorization body caption content cookie cookies credential credentials csrf data "
    "email emails filename form header headers iban ip key mail message mobile name names otp "
    "parameters params passphrase passwd password payload phone postcode pwd query search secret "
    "session sessions snippet street subject tel text token tokens totp xsrf zip"
)
SENSITIVE_WORDS = frozenset(_WORDS.split())
SENSITIVE_KEYS = frozenset(
    {"client_addr", "remote_addr", "user_agent", "useragent", "referer", "referrer", "q"}
)
_MASKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"\b(el[a-z])_[A-Za-z0-9_-]{16,}"), rf"\1_{REDACTED}"),
    (
        re.compile(
            r"(?i)\b([\w-]*(?:password|passwd|secret|token|csrf|session|cookie|authorization"
            r"|api[_-]?key)[\w-]*[\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), REDACTED),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), REDACTED),
    (re.compile(r"(/[^\s?#\"']*)\?[^\s#\"']+"), rf"\1?{REDACTED}"),
]
_LIBRARIES_FROM = logging.INFO  # libraries' debug output carries frames, SQL and bodies
_HANDLER_MARK = "_eyelevel_handler"


def mask(text: str) -> str:
    """``text`` with tokens, credentials, hashes, e-mail addresses and query strings masked."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=2048)
def _sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in SENSITIVE_KEYS or any(
        word in SENSITIVE_WORDS for word in re.split(r"[_\-.\s]+", lowered)
    )


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: REDACTED if _sensitive(str(k)) else _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask(repr(value))


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The structlog processor: sensitive keys replaced, secrets in strings masked."""
    return {
        k: REDACTED if k != "event" and _sensitive(k) else _clean(v) for k, v in event_dict.items()
    }


def outline_exception(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """``exc_info`` → ``exception``: frames and class names of the chain, no messages."""
    exc_info = event_dict.pop("exc_info", None)
    exc: BaseException | None = None
    if isinstance(exc_info, BaseException):
        exc = exc_info
    elif isinstance(exc_info, tuple):
        exc = exc_info[1]
    elif exc_info:
        exc = sys.exc_info()[1]
    lines: list[str] = []
    while exc is not None and len(lines) < 200:
        lines.append(type(exc).__qualname__ if not lines else f"from {type(exc).__qualname__}")
        frames = traceback.extract_tb(exc.__traceback__)[-20:]
        lines += [f"  {f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames]
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if lines:
        event_dict["exception"] = "\n".join(["Traceback (messages left out):", *lines])
    return event_dict


class _UvicornLine(logging.Filter):
    """uvicorn's access and WebSocket lines (``'%s - "…"'``) without client address or query."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(record.msg, str)
            and record.msg.startswith("%s - ")
            and isinstance(args, tuple)
        ):
            record.args = ("-", *(_path_only(a) for a in args[1:]))
        return True


def _path_only(arg: object) -> object:
    return arg.split("?", 1)[0] if isinstance(arg, str) and arg.startswith("/") else arg


def formatter() -> logging.Formatter:
    """Renders standard-library records as redacted JSON lines, like eyelevel's own events."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            outline_exception,
            redact,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure(level: str = "info", *, stream: TextIO | None = None) -> None:
    """JSON lines to ``stream`` (stderr). Calling again replaces the earlier configuration: the
    loggers are not cached, so a test can capture exactly what the server would write."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    out = stream if stream is not None else sys.stderr
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        outline_exception,
        redact,
        structlog.processors.JSONRenderer(),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(max(numeric, _LIBRARIES_FROM))
    for name in ("uvicorn.access", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        if not any(isinstance(f, _UvicornLine) for f in uvicorn_logger.filters):
            uvicorn_logger.addFilter(_UvicornLine())


def unconfigure() -> None:
    """Undo :func:`configure` (tests): structlog's defaults, no eyelevel handler on the root."""
    structlog.reset_defaults()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
