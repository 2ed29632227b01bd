"""Fetching a page to summarize, safe against server-side request forgery (SSRF).

`fetch()` GETs an http(s) URL and returns its body, refusing with a `FetchRefused` (a stable
code, a message and the HTTP status the service answers) anything a summarizer has no business
fetching:

- URLs other than http/https, without a host, or with user info (`http://example.com@10.0.0.1/`);
- hosts that resolve to any address that is not global (loopback, private, link-local such as the
  169.254.169.254 metadata service, carrier-grade NAT, multicast, reserved, unspecified; IPv4
  addresses inside IPv6 ones are unwrapped first), unless the allow-list names the host or a
  network holding the address. The check is made in the connection itself: httpcore's network
  backend resolves the host, checks every address and connects to a checked one, so a DNS answer
  cannot change between the check and the connection; TLS still verifies the certificate for the
  host name. Every redirect hop is a new request, checked the same way;
- pages that take too long: connect and read timeouts, and one deadline for the whole fetch that
  every read and write on the connection keeps (a server dribbling its headers or body a byte at
  a time is cut off at the deadline; only name resolution, which has no timeout, can exceed it);
  bodies larger than `max_bytes` once decoded (so a gzip bomb stops at the limit; only a single
  gzip or deflate encoding is accepted), and content types other than HTML and plain text.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore
import httpx

MAX_REDIRECTS = 5
CONNECT_TIMEOUT_S = 5.0  # at most; never beyond the fetch's deadline
CONTENT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
CONTENT_ENCODINGS = ("identity", "gzip", "deflate")
REQUEST_HEADERS = {
    "User-Agent": "article-summarizer/0.1 (fetches the pages its users ask it to summarize)",
    "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8",
    "Accept-Encoding": "gzip, deflate",
}
# The status the service answers for each refusal.
STATUSES = {
    "url_not_allowed": 400,  # not http(s), no host, user info, malformed
    "address_not_allowed": 403,  # the host resolves to a non-global address that is not allow-listed
    "page_too_large": 413,  # over `max_bytes` (from Content-Length, or once decoded)
    "unsupported_content_type": 422,  # the page is neither HTML nor plain text
    "fetch_failed": 502,  # DNS, connection or TLS failure, an error status from the origin, a bad encoding
    "too_many_redirects": 502,  # more than MAX_REDIRECTS hops (a loop included)
    "fetch_timeout": 504,  # a connect or read timeout, or past the fetch's deadline
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """A URL or page the service will not fetch: `code`, a message for the client, and the HTTP `status`."""

    def __init__(self, code: str, message: str, origin_status: int | None = None):
        super().__init__(message)
        self.code, self.message, self.status, self.origin_status = code, message, STATUSES[code], origin_status


@dataclass(frozen=True)
class Fetched:
    body: bytes  # decoded (Content-Encoding undone), not yet decoded to text
    content_type: str  # the media type, lower case, without parameters
    charset: str | None  # the Content-Type's charset parameter
    final_url: str  # after redirects


@dataclass(frozen=True)
class AllowList:
    """Hosts (exact names) and networks that may be fetched although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = field(default=())

    @classmethod
    def parse(cls, spec: str) -> AllowList:
        """From a comma-separated list of host names and CIDR networks (`localhost, 10.1.0.0/16, ::1`)."""
        hosts, networks = set(), []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                if not all(c.isalnum() or c in "-._" for c in item):
                    raise ValueError(f"{item!r} is neither a host name nor an IP network") from None
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


def fetch(url: str, *, max_bytes: int, timeout: float, allow: AllowList = AllowList()) -> Fetched:
    """GET `url` (following at most MAX_REDIRECTS redirects, each checked), within `timeout` seconds in all."""
    target = _checked_url(url)
    transport = _GuardedTransport(allow, deadline=time.monotonic() + timeout)
    with httpx.Client(transport=transport, headers=REQUEST_HEADERS, follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            with _send(client, target, timeout) as response:
                if response.is_redirect:
                    target = _checked_url(response.headers["location"], base=response.url)
                    continue
                return _read(response, max_bytes)
    raise FetchRefused("too_many_redirects", f"more than {MAX_REDIRECTS} redirects from {url}")


def is_public(address: Address) -> bool:
    """Whether `address` is a global unicast address (IPv4 inside IPv6 judged as IPv4)."""
    for embedded in _embedded_ipv4(address):
        if not is_public(embedded):
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def resolve(host: str, port: int, allow: AllowList) -> list[str]:
    """The addresses of `host` to connect to; `FetchRefused` unless every one is public or allow-listed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchRefused("fetch_failed", f"cannot resolve {host}: {error}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if allow.allows_host(host):
        return addresses
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # no IPv6 zone index
        if not (is_public(address) or allow.allows_address(address)):
            raise FetchRefused("address_not_allowed", f"{host} resolves to {address}, which is not a public address")
    return addresses


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to checked addresses, every operation within a deadline."""

    def __init__(self, allow: AllowList, deadline: float):
        self.allow, self.deadline = allow, deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in resolve(host, port, self.allow):
            limit = _within(self.deadline, timeout, httpcore.ConnectTimeout)
            try:
                stream = super().connect_tcp(address, port, limit, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as failure:
                error = failure
            else:
                return _DeadlineStream(stream, self.deadline)
        raise error


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes end by the fetch's deadline, whatever their own timeout."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float):
        self.stream, self.deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _within(self.deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, _within(self.deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:  # noqa: ANN001
        limit = _within(self.deadline, timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.stream.start_tls(ssl_context, server_hostname, limit), self.deadline)

    def get_extra_info(self, info: str) -> object:
        return self.stream.get_extra_info(info)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool with the guarded backend (no proxies, no retries)."""

    def __init__(self, allow: AllowList, deadline: float):
        super().__init__(trust_env=False)
        # httpx builds its pool without a network backend argument: this is the same pool with one.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=4,
            retries=0,
            network_backend=_GuardedBackend(allow, deadline),
        )


def _checked_url(url: str, base: httpx.URL | None = None) -> httpx.URL:
    """`url` (relative to `base`, for a redirect) if it may be fetched."""
    try:
        parsed = base.join(url) if base else httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise FetchRefused("url_not_allowed", f"not a valid URL: {error}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused("url_not_allowed", f"only http and https URLs are fetched, not {parsed.scheme or 'none'!r}")
    if not parsed.host:
        raise FetchRefused("url_not_allowed", "the URL has no host")
    if parsed.userinfo:
        raise FetchRefused("url_not_allowed", "URLs with user info (user:password@) are not fetched")
    return parsed


def _send(client: httpx.Client, url: httpx.URL, timeout: float) -> _Streamed:
    """The streamed response to a GET of `url`, transport failures mapped to `FetchRefused`."""
    timeouts = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_S))
    try:
        return _Streamed(client.send(client.build_request("GET", url, timeout=timeouts), stream=True))
    except httpx.TimeoutException:
        raise FetchRefused("fetch_timeout", f"{url.host} did not answer in time") from None
    except httpx.TransportError as error:
        raise FetchRefused("fetch_failed", f"cannot fetch from {url.host}: {error or type(error).__name__}") from None


@dataclass
class _Streamed:
    """A streamed response as a context manager that always closes it."""

    response: httpx.Response

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc_info: object) -> None:
        self.response.close()


def _read(response: httpx.Response, max_bytes: int) -> Fetched:
    if response.status_code >= 300:
        raise FetchRefused(
            "fetch_failed", f"{response.url.host} answered HTTP {response.status_code}", response.status_code
        )
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        raise FetchRefused(
            "unsupported_content_type", f"the page is {media_type or 'of no type'}, not HTML or plain text"
        )
    encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "identity").split(",")]
    if len(encodings) > 1 or encodings[0] not in CONTENT_ENCODINGS:
        raise FetchRefused("fetch_failed", f"the page is sent with an unsupported encoding: {', '.join(encodings)}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchRefused("page_too_large", f"the page has {declared} bytes; the limit is {max_bytes}")
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise FetchRefused("page_too_large", f"the page has more than {max_bytes} bytes")
    except httpx.TimeoutException:
        raise FetchRefused("fetch_timeout", f"{response.url.host} sent the page too slowly") from None
    except (httpx.TransportError, httpx.DecodingError) as error:
        raise FetchRefused("fetch_failed", f"the page could not be read: {error or type(error).__name__}") from None
    return Fetched(bytes(body), media_type, response.charset_encoding, str(response.url))


def _within(deadline: float, timeout: float | None, error: type[Exception]) -> float:
    """`timeout`, shortened to end by `deadline`; `error` once the deadline has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the deadline of the fetch has passed")
    return remaining if timeout is None else min(timeout, remaining)


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside an IPv6 one: mapped, 6to4, Teredo, NAT64."""
    if address.version == 4:
        return []
    embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in embedded if a is not None]
