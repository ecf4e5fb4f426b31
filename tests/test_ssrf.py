"""The webhook SSRF guard: a matrix of address forms, with name resolution and the connection
stubbed, so a faulty guard never sends a packet anywhere (the stub transport records what it
would have sent, and every refused form must leave it empty)."""

from __future__ import annotations

import socket

import httpx
import pytest

from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.webhooks.transport import GuardedTransport

DNS = {
    "localhost": ["127.0.0.1", "::1"],
    "internal.example.test": ["10.1.2.3"],
    "metadata.example.test": ["169.254.169.254"],
    "v6loop.example.test": ["::1"],
    "mixed.example.test": ["93.184.216.34", "10.0.0.1"],  # one bad address is enough
    "mapped.example.test": ["::ffff:192.168.0.1"],
    "cgnat.example.test": ["100.100.100.100"],
    "ula.example.test": ["fd00::5"],
    "zero.example.test": ["0.0.0.0"],
    "rebind.example.test": ["127.0.0.2"],
    "public.example.test": ["93.184.216.34"],
    "public6.example.test": ["2606:4700::1111"],
}

REFUSED = [
    # IPv4 literals
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.1",
    "198.18.0.1",
    "192.0.2.1",
    # the same in the numeric forms inet_aton accepts
    "2130706433",
    "0x7f000001",
    "0X7F000001",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "127.1",
    "127.0.1",
    "017700000001",
    "0x0a.0x00.0x00.0x01",
    "167772161",
    "0",
    "3232235777",
    "127.0.0.1.",
    # IPv6 literals, and IPv6 forms carrying a forbidden IPv4 address
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:10.0.0.1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::127.0.0.1]",
    "[fe80::1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[ff02::1]",
    "[fec0::1]",
    "[2002:7f00:1::]",
    "[2002:c0a8:101::1]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b::a9fe:a9fe]",
    "[64:ff9b:1::a]",
    # names resolving to such addresses
    "localhost",
    "LOCALHOST",
    "internal.example.test",
    "metadata.example.test",
    "v6loop.example.test",
    "mixed.example.test",
    "mapped.example.test",
    "cgnat.example.test",
    "ula.example.test",
    "zero.example.test",
    "rebind.example.test",
]

INVALID = [
    "http://[::1%25eth0]/x",
    "http://user@127.0.0.1/x",
    "http://user:pw@public.example.test/x",
    "http://public.example.test:99999/x",
    "http:///x",
    "http://exa mple.test/x",
    "http://public.example.test/x#frag",
    "http://%31%32%37.0.0.1/x",
    "http://[public.example.test]/x",
    "gopher://public.example.test/x",
    "file:///etc/passwd",
    "//public.example.test/x",
]


async def _resolve(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "unknown in the stub")
    return DNS[host]


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(204)


def guard(recorder: Recorder, *, networks: list[str] | None = None) -> GuardedTransport:
    return GuardedTransport(
        allow_http=True,
        allowed_networks=networks or [],
        timeout=1.0,
        resolver=_resolve,
        transport=httpx.MockTransport(recorder),
    )


def test_the_matrix_is_large_enough() -> None:
    assert len(REFUSED) >= 40 and len(set(REFUSED)) == len(REFUSED)


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("host", REFUSED)
async def test_refused_at_save_and_at_send(host: str, scheme: str) -> None:
    recorder = Recorder()
    g = guard(recorder)
    url = f"{scheme}://{host}:8443/hook"
    with pytest.raises(DomainError) as refused:
        await g.check_url(url)
    assert refused.value.code == ErrorCode.WEBHOOK_URL_FORBIDDEN, url
    sent = await g.send(url, headers={}, body=b"{}")
    assert sent.error == "address_forbidden" and sent.status_code is None
    assert recorder.requests == []


@pytest.mark.parametrize("url", INVALID)
async def test_malformed_urls_are_refused(url: str) -> None:
    recorder = Recorder()
    g = guard(recorder)
    with pytest.raises(DomainError) as refused:
        await g.check_url(url)
    assert refused.value.code in (ErrorCode.VALIDATION, ErrorCode.WEBHOOK_URL_FORBIDDEN)
    assert (await g.send(url, headers={}, body=b"{}")).error in ("invalid_url", "address_forbidden")
    assert recorder.requests == []


async def test_http_needs_the_operator_setting() -> None:
    recorder = Recorder()
    g = GuardedTransport(
        allow_http=False,
        allowed_networks=[],
        timeout=1.0,
        resolver=_resolve,
        transport=httpx.MockTransport(recorder),
    )
    with pytest.raises(DomainError) as refused:
        await g.check_url("http://public.example.test/x")
    assert refused.value.code == ErrorCode.VALIDATION
    assert await g.check_url("https://public.example.test/x") == "https://public.example.test/x"


async def test_unknown_names_are_refused_without_a_request() -> None:
    recorder = Recorder()
    g = guard(recorder)
    with pytest.raises(DomainError):
        await g.check_url("https://nowhere.example.test/x")
    assert (await g.send("https://nowhere.example.test/x", headers={}, body=b"")).error
    assert recorder.requests == []


async def test_public_addresses_are_called_at_the_checked_address() -> None:
    """The request goes to the address the guard checked; the name travels only in ``Host``
    and as the TLS server name, so nothing resolves it a second time."""
    recorder = Recorder()
    g = guard(recorder)
    url = "https://public.example.test/hooks?x=1"
    assert await g.check_url(url) == url
    sent = await g.send(url, headers={"webhook-id": "msg_1"}, body=b"{}")
    assert sent.status_code == 204 and sent.error is None
    [request] = recorder.requests
    assert request.url.host == "93.184.216.34" and request.url.port in (None, 443)
    assert request.url.raw_path == b"/hooks?x=1"
    assert request.headers["host"] == "public.example.test"
    assert request.extensions["sni_hostname"] == "public.example.test"
    sent = await g.send("https://public6.example.test:8443/h", headers={}, body=b"{}")
    assert sent.status_code == 204
    assert recorder.requests[1].url.host == "2606:4700::1111"
    assert recorder.requests[1].headers["host"] == "public6.example.test:8443"


async def test_the_operator_allow_list_opens_exactly_its_networks() -> None:
    recorder = Recorder()
    g = guard(recorder, networks=["10.0.0.0/8", "fd00::/8"])
    assert await g.check_url("http://internal.example.test/x")
    assert await g.check_url("http://ula.example.test/x")
    assert await g.check_url("http://0x0a.0x00.0x00.0x01/x") == "http://10.0.0.1/x"
    for host in ("localhost", "metadata.example.test", "192.168.1.1", "[::ffff:10.0.0.1]"):
        with pytest.raises(DomainError) as refused:
            await g.check_url(f"http://{host}/x")
        assert refused.value.code == ErrorCode.WEBHOOK_URL_FORBIDDEN, host
    assert recorder.requests == []
