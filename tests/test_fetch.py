"""Fetching pages by URL, against real HTTP servers on loopback: SSRF refusals, redirects, limits, timeouts."""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from service import fetch as fetch_module
from service.fetch import MAX_REDIRECTS, STATUSES, AllowList, FetchRefused, fetch, is_public

PAGE = (Path(__file__).resolve().parent / "samples" / "pages" / "council_budget.html").read_bytes()
LOOPBACK = AllowList.parse("127.0.0.0/8")
LIMIT = 1_000_000


class Handler(BaseHTTPRequestHandler):
    """Each path is one behaviour of an origin server."""

    protocol_version = "HTTP/1.1"
    requests: list[tuple[str, str]] = []  # (path, Host header) of every request

    def log_message(self, *args) -> None:  # quiet
        pass

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # the client hung up: the point of several tests
            super().handle()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Handler.requests.append((self.path, self.headers.get("Host", "")))
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        route = getattr(self, "route_" + url.path.strip("/").split("/")[0].replace("-", "_"), None)
        if route is None:
            self.answer(404, b"not found", "text/plain")
        else:
            route(url.path, query)

    def answer(self, status: int, body: bytes, content_type: str | None, **headers: str) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_article(self, path, query):
        self.answer(200, PAGE, "text/html; charset=utf-8")

    def route_plain(self, path, query):
        self.answer(200, b"Plain text article.", "text/plain; charset=iso-8859-1")

    def route_typed(self, path, query):
        self.answer(200, b"%PDF-1.7 ...", query.get("type"))

    def route_big(self, path, query):
        self.answer(200, b"<p>" + b"x" * LIMIT + b"</p>", "text/html")

    def route_endless(self, path, query):
        """No Content-Length: the body runs until the connection closes, and never does."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        for _ in range(10_000):
            self.wfile.write(b"<p>" + b"x" * 65_536 + b"</p>")

    def route_gzip(self, path, query):
        body = PAGE if query.get("bomb") is None else b" " * 50_000_000
        layers = int(query.get("layers", "1"))
        for _ in range(layers):
            body = gzip.compress(body)
        self.answer(200, body, "text/html", Content_Encoding=", ".join(["gzip"] * layers))

    def route_brotli(self, path, query):
        self.answer(200, b"\x0b\x02\x80hello\x03", "text/html", Content_Encoding="br")

    def route_redirect(self, path, query):
        self.answer(int(query.get("status", "302")), b"", "text/plain", Location=query["to"])

    def route_loop(self, path, query):
        self.answer(302, b"", "text/plain", Location="/loop")

    def route_chain(self, path, query):
        """/chain/N redirects N + 1 times."""
        hops = int(path.rsplit("/", 1)[1])
        self.answer(302, b"", "text/plain", Location=f"/chain/{hops - 1}" if hops else "/article")

    def route_status(self, path, query):
        self.answer(int(query["code"]), b"error page", "text/html")

    def route_slow(self, path, query):
        time.sleep(float(query.get("seconds", "3")))
        self.answer(200, PAGE, "text/html")

    def route_dribble(self, path, query):
        """A byte every 0.1 s, each well within a read timeout: only a deadline stops it."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(100_000):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.1)

    def route_dribble_headers(self, path, query):
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(10_000):
            self.wfile.write(b"X-Slow: y\r\n")
            self.wfile.flush()
            time.sleep(0.1)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """Base URL of a threaded HTTP server on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def refusal(url: str, allow: AllowList = LOOPBACK, **limits) -> FetchRefused:
    limits = {"max_bytes": LIMIT, "timeout": 5.0} | limits
    with pytest.raises(FetchRefused) as caught:
        fetch(url, allow=allow, **limits)
    assert caught.value.status == STATUSES[caught.value.code]
    return caught.value


# -- what is fetched -----------------------------------------------------------------------------


def test_an_allow_listed_page_is_fetched_whole(origin):
    fetched = fetch(origin + "/article", max_bytes=LIMIT, timeout=5, allow=LOOPBACK)
    assert fetched.body == PAGE
    assert (fetched.content_type, fetched.charset, fetched.final_url) == ("text/html", "utf-8", origin + "/article")


def test_plain_text_and_its_charset(origin):
    fetched = fetch(origin + "/plain", max_bytes=LIMIT, timeout=5, allow=LOOPBACK)
    assert (fetched.body, fetched.content_type, fetched.charset) == (b"Plain text article.", "text/plain", "iso-8859-1")


def test_a_gzip_page_is_decoded(origin):
    assert fetch(origin + "/gzip", max_bytes=LIMIT, timeout=5, allow=LOOPBACK).body == PAGE


def test_redirects_are_followed_up_to_the_limit(origin):
    fetched = fetch(origin + f"/chain/{MAX_REDIRECTS - 1}", max_bytes=LIMIT, timeout=5, allow=LOOPBACK)  # N hops
    assert fetched.body == PAGE and fetched.final_url == origin + "/article"
    assert refusal(origin + f"/chain/{MAX_REDIRECTS}").code == "too_many_redirects"
    assert refusal(origin + "/loop").code == "too_many_redirects"


# -- addresses -----------------------------------------------------------------------------------


def test_loopback_is_refused_without_the_allow_list(origin):
    error = refusal(origin + "/article", allow=AllowList())
    assert (error.code, error.status) == ("address_not_allowed", 403)
    assert "127.0.0.1" in error.message


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),  # decimal: httpx keeps the name, the resolver reads it as an IPv4 address
        ("0x7f.1", "127.0.0.1"),  # hex and short forms too (inet_aton)
        ("017700000001", "127.0.0.1"),  # octal
        ("127.1", "127.0.0.1"),
        ("localhost", "127.0.0.1"),
    ],
)
def test_other_spellings_of_loopback_are_loopback(origin, host, address):
    port = urlsplit(origin).port
    error = refusal(f"http://{host}:{port}/article", allow=AllowList())
    assert error.code == "address_not_allowed" and address in error.message
    assert fetch(f"http://{host}:{port}/article", max_bytes=LIMIT, timeout=5, allow=LOOPBACK).body == PAGE


@pytest.mark.parametrize(
    "url",
    ["http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://[::]/", "http://169.254.169.254/latest"],
)
def test_loopback_unspecified_and_metadata_addresses_are_refused(url):
    assert refusal(url, allow=AllowList()).code == "address_not_allowed"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata (link-local)
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ],
)
def test_only_global_addresses_are_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


def _resolver(answers: dict[str, list[str]]):
    def getaddrinfo(host, port, *args, **kwargs):
        try:  # the connection itself resolves the checked address: a numeric one
            answers[host] = [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    return getaddrinfo


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", _resolver({"intranet.example": ["10.0.0.5"]}))
    error = refusal("http://intranet.example/page", allow=AllowList())
    assert error.code == "address_not_allowed" and "10.0.0.5" in error.message


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch):
    answers = {"mixed.example": ["93.184.215.14", "2606:4700:4700::1111", "192.168.0.10"]}
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", _resolver(answers))
    assert "192.168.0.10" in refusal("http://mixed.example/", allow=AllowList()).message


def test_the_connection_goes_to_the_address_that_was_checked(origin, monkeypatch):
    """DNS rebinding: `news.example` answers 127.0.0.1 (allowed) once, then 10.9.9.9. The request reaches the
    server, so the connection used the address that was checked, and never asked the resolver again."""
    answers = iter([["127.0.0.1"]])
    resolve_numeric = _resolver({})

    def rebinding(host, port, *args, **kwargs):
        if host == "news.example":
            addresses = next(answers, ["10.9.9.9"])
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]
        return resolve_numeric(host, port)

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", rebinding)
    port = urlsplit(origin).port
    Handler.requests.clear()
    fetched = fetch(f"http://news.example:{port}/article", max_bytes=LIMIT, timeout=5, allow=LOOPBACK)
    assert fetched.body == PAGE and Handler.requests == [("/article", f"news.example:{port}")]


def test_an_allow_listed_host_name_may_resolve_anywhere(origin, monkeypatch):
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", _resolver({"wiki.intranet": ["127.0.0.1"]}))
    port = urlsplit(origin).port
    url = f"http://wiki.intranet:{port}/article"
    assert refusal(url, allow=AllowList()).code == "address_not_allowed"
    assert fetch(url, max_bytes=LIMIT, timeout=5, allow=AllowList.parse("wiki.intranet")).body == PAGE


def test_a_name_that_does_not_resolve_fails(monkeypatch):
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", _resolver({}))
    error = refusal("http://no-such-host.example/", allow=AllowList())
    assert (error.code, error.status) == ("fetch_failed", 502)


# -- redirects -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("http://10.0.0.1/admin", "address_not_allowed"),
        ("http://169.254.169.254/latest/meta-data/", "address_not_allowed"),
        ("http://[::1]:1/", "address_not_allowed"),
        ("file:///etc/passwd", "url_not_allowed"),
        ("gopher://127.0.0.1:25/", "url_not_allowed"),
        ("http://user:secret@example.com/", "url_not_allowed"),
    ],
)
def test_every_redirect_hop_is_checked_again(origin, target, code):
    allow = AllowList.parse("127.0.0.1/32")
    assert refusal(f"{origin}/redirect?to={target}", allow=allow).code == code


def test_a_redirect_from_an_allowed_host_name_to_a_loopback_address_is_refused(origin):
    port = urlsplit(origin).port
    url = f"http://localhost:{port}/redirect?to=http://127.0.0.1:{port}/article"
    assert fetch(f"http://localhost:{port}/article", max_bytes=LIMIT, timeout=5, allow=AllowList.parse("localhost"))
    assert refusal(url, allow=AllowList.parse("localhost")).code == "address_not_allowed"


def test_a_relative_redirect_is_resolved_against_the_page(origin):
    fetched = fetch(origin + "/redirect?to=article&status=301", max_bytes=LIMIT, timeout=5, allow=LOOPBACK)
    assert fetched.final_url == origin + "/article"


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://example.com/",
        "javascript:alert(1)",
        "data:text/html,<p>hi</p>",
        "//example.com/no-scheme",
        "example.com/no-scheme",
        "http://",
        "http:///path",
        "http://example.com@127.0.0.1/",  # user info: the host is 127.0.0.1, not example.com
        "http://user:pass@example.com/",
        "",
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url):
    error = refusal(url, allow=AllowList())
    assert (error.code, error.status) == ("url_not_allowed", 400)


# -- responses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "application/json", ""])
def test_only_html_and_plain_text_are_accepted(origin, content_type):
    error = refusal(f"{origin}/typed?type={content_type}")
    assert (error.code, error.status) == ("unsupported_content_type", 422)


def test_xhtml_is_accepted(origin):
    assert fetch(f"{origin}/typed?type=application/xhtml%2Bxml", max_bytes=LIMIT, timeout=5, allow=LOOPBACK)


@pytest.mark.parametrize("code", [404, 500, 503])
def test_an_error_status_from_the_origin_fails_with_that_status(origin, code):
    error = refusal(f"{origin}/status?code={code}")
    assert (error.code, error.status, error.origin_status) == ("fetch_failed", 502, code)
    assert str(code) in error.message


@pytest.mark.parametrize("path", ["/big", "/endless", "/gzip?bomb=1"])
def test_a_body_over_the_limit_is_refused_while_streaming(origin, path):
    started = time.perf_counter()
    error = refusal(origin + path)
    assert (error.code, error.status) == ("page_too_large", 413)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("path", ["/gzip?layers=2", "/brotli"])
def test_stacked_or_unrequested_encodings_are_refused(origin, path):
    assert refusal(origin + path).code == "fetch_failed"


def test_a_connection_refused_fails():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert refusal(f"http://127.0.0.1:{port}/").code == "fetch_failed"


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/slow?seconds=5", "/dribble", "/dribble-headers"])
def test_a_slow_or_dribbling_server_is_cut_off_at_the_deadline(origin, path):
    started = time.perf_counter()
    error = refusal(origin + path, timeout=1.5)
    assert (error.code, error.status) == ("fetch_timeout", 504)
    assert 1.4 < time.perf_counter() - started < 3


def test_the_allow_list_reads_hosts_and_networks():
    allow = AllowList.parse(" Wiki.Intranet. , 10.1.0.0/16,::1 ,, 192.168.1.7")
    assert allow.hosts == frozenset({"wiki.intranet"})
    assert allow.allows_host("WIKI.intranet") and not allow.allows_host("intranet")
    assert allow.allows_address(ipaddress.ip_address("10.1.200.3"))
    assert allow.allows_address(ipaddress.ip_address("::1")) and allow.allows_address(
        ipaddress.ip_address("192.168.1.7")
    )
    assert not allow.allows_address(ipaddress.ip_address("10.2.0.1"))
    with pytest.raises(ValueError, match="neither a host name nor an IP network"):
        AllowList.parse("10.0.0.0/33x")
