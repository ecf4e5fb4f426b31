"""The webhook HTTP transport with its SSRF guard (implements ``core.ports.WebhookTransport``).

A URL is checked when an admin saves it and again before every send: the scheme must be
``https`` (``http`` only when the operator allows it), and every address the host resolves to
must be public or inside an operator-allowed network (``core.rules.addresses``). The request
then goes to the checked address itself, with the name only in the ``Host`` header and in TLS
(SNI and certificate verification), so a second resolution cannot send it elsewhere (DNS
rebinding). Redirects are never followed, proxies from the environment never used, and the
whole exchange is bounded by one timeout.

``resolver`` and ``transport`` are attributes so tests can stub name resolution and the
connection (a faulty guard then never reaches anything but loopback).

These requests stay out of the logs: httpx's ``info`` line names the whole URL, and the path
of a webhook URL or of a web push endpoint can carry a secret or identify a customer's
browser. A filter on the ``httpx`` logger (added when this module is imported) drops that
line for requests sent from :meth:`GuardedTransport.send`; callers log ids and outcomes.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import WebhookResponse
from eyelevel.core.rules.addresses import (
    IPAddress,
    allowed,
    forbidden_reason,
    literal_address,
    parse_networks,
    valid_name,
)
from eyelevel.core.webhooks import MAX_SNIPPET_BYTES

Resolver = Callable[[str, int], Awaitable[list[str]]]
MAX_URL = 2000
_QUIET = contextvars.ContextVar("eyelevel_guarded_request", default=False)


class _QuietRequests(logging.Filter):
    """Drops httpx's request lines while a guarded request is sent (see the module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _QUIET.get()


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _QuietRequests) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_QuietRequests())


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class Target:
    url: str  # normalised
    scheme: str
    host: str  # IDNA-encoded name, or the canonical address
    port: int
    path: str  # path and query
    literal: IPAddress | None

    def host_header(self) -> str:
        host = (
            f"[{self.host}]"
            if self.literal is not None and self.literal.version == 6
            else self.host
        )
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def url_to(self, address: IPAddress) -> str:
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def _invalid(detail: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, detail, field="url")


def _forbidden(detail: str) -> DomainError:
    return DomainError(ErrorCode.WEBHOOK_URL_FORBIDDEN, detail, field="url")


def parse_url(url: str, *, allow_http: bool) -> Target:
    """Check a URL's form (not yet its addresses) and normalise it."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise _invalid(f"url must be an absolute URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise _invalid("url is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _invalid("url must start with https://")
    if scheme == "http" and not allow_http:
        raise _invalid("url must use https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _invalid("url must not contain credentials")
    if parts.fragment:
        raise _invalid("url must not have a fragment")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise _invalid("url has an invalid port") from None
    raw = parts.hostname or ""
    if not raw or "%" in raw:
        raise _invalid("url has no valid host")
    bracketed = parts.netloc.split("@")[-1].startswith("[")
    literal = literal_address(raw)
    if bracketed and (literal is None or literal.version != 6):
        raise _invalid("url has no valid host")
    if literal is not None:
        host = str(literal)
    else:
        try:
            host = raw.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise _invalid("url has no valid host") from None
        if not valid_name(host):
            raise _invalid("url has no valid host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    target = Target("", scheme, host, port, path, literal)
    return Target(f"{scheme}://{target.host_header()}{path}", scheme, host, port, path, literal)


class GuardedTransport:
    def __init__(
        self,
        *,
        allow_http: bool,
        allowed_networks: Sequence[str],
        timeout: float,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allow_http = allow_http
        self.networks = parse_networks(allowed_networks)
        self.timeout = timeout
        self.resolver: Resolver = resolver or system_resolve
        self.transport = transport

    async def _addresses(self, target: Target) -> list[IPAddress]:
        if target.literal is not None:
            found = [target.literal]
        else:
            try:
                names = await self.resolver(target.host, target.port)
            except OSError:
                raise _invalid("the host name does not resolve") from None
            found = []
            for name in names:
                address = literal_address(name.split("%")[0])
                if address is None:
                    raise _forbidden("the host resolves to an address that is not allowed")
                found.append(address)
            if not found:
                raise _invalid("the host name does not resolve")
        for address in found:
            if not allowed(address, self.networks):
                reason = forbidden_reason(address) or "not_allowed"
                raise _forbidden(f"the host's address is not allowed ({reason})")
        return found

    async def check_url(self, url: str) -> str:
        target = parse_url(url, allow_http=self.allow_http)
        await self._addresses(target)
        return target.url

    async def send(self, url: str, *, headers: dict[str, str], body: bytes) -> WebhookResponse:
        started = time.monotonic()

        def result(
            error: str | None, status: int | None = None, text: str = "", retry: float | None = None
        ) -> WebhookResponse:
            latency = int((time.monotonic() - started) * 1000)
            return WebhookResponse(status, latency, text, retry, error)

        try:
            target = parse_url(url, allow_http=self.allow_http)
            address = (await self._addresses(target))[0]
        except DomainError as exc:
            return result(
                "address_forbidden"
                if exc.code == ErrorCode.WEBHOOK_URL_FORBIDDEN
                else "invalid_url"
            )
        extensions = {}
        if target.scheme == "https" and target.literal is None:
            extensions["sni_hostname"] = target.host
        request_headers = {**headers, "host": target.host_header()}
        quiet = _QUIET.set(True)
        try:
            async with (
                asyncio.timeout(self.timeout),
                httpx.AsyncClient(
                    transport=self.transport,
                    timeout=self.timeout,
                    follow_redirects=False,
                    trust_env=False,
                ) as client,
                client.stream(
                    "POST",
                    target.url_to(address),
                    content=body,
                    headers=request_headers,
                    extensions=extensions,
                ) as response,
            ):
                snippet = b""
                async for chunk in response.aiter_bytes():
                    snippet += chunk
                    if len(snippet) >= MAX_SNIPPET_BYTES:
                        break
                return result(
                    None,
                    response.status_code,
                    snippet[:MAX_SNIPPET_BYTES].decode(errors="ignore"),
                    retry_after(response.headers.get("retry-after")),
                )
        except (TimeoutError, httpx.TimeoutException):
            return result("timeout")
        except httpx.ConnectError:
            return result("connect_error")
        except httpx.HTTPError:
            return result("transport_error")
        except OSError:
            return result("connect_error")
        finally:
            _QUIET.reset(quiet)


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
