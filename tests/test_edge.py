"""The edge a deployment expects: request ids, API keys, CORS, security headers, no paths in /v1/info."""

import pytest

from service.app import create_app
from service.config import Settings

ARTICLE = (
    "The museum reopened on Saturday after a two-year renovation. Visitors lined up for hours to see the new wing."
)


@pytest.fixture(scope="module")
def keyed(engine):
    return create_app(Settings(api_keys="first-key, second-key"), engine).test_client()


@pytest.fixture(scope="module")
def cors(engine):
    return create_app(Settings(cors_origins="https://news.example"), engine).test_client()


def test_a_request_id_is_kept_or_made_and_returned(client):
    assert (
        client.get("/healthz", headers={"X-Request-Id": "trace-42:a.b_c"}).headers["X-Request-Id"] == "trace-42:a.b_c"
    )
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-Id"]
    for hostile in ("x" * 129, "a b", "<script>", "ünïcode"):
        returned = client.get("/healthz", headers={"X-Request-Id": hostile}).headers["X-Request-Id"]
        assert returned != hostile and len(returned) == 32


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer first-key"}, {"Authorization": "bearer second-key"}, {"X-API-Key": "first-key"}],
)
def test_a_valid_key_opens_the_api(keyed, headers):
    assert keyed.post("/v1/summarize", json={"text": ARTICLE}, headers=headers).status_code == 200
    assert keyed.get("/v1/info", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic first-key"}, {"X-API-Key": "first"}]
)
def test_without_a_valid_key_the_api_answers_401_json(keyed, headers):
    response = keyed.post("/v1/summarize", json={"text": ARTICLE}, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert keyed.get("/v1/info", headers=headers).status_code == 401


def test_health_metrics_and_the_page_stay_open_with_keys(keyed):
    for path in ("/healthz", "/readyz", "/metrics", "/"):
        assert keyed.get(path).status_code == 200, path


def test_no_cors_headers_unless_origins_are_configured(client, cors):
    origin = {"Origin": "https://news.example"}
    assert (
        "Access-Control-Allow-Origin"
        not in client.post("/v1/summarize", json={"text": ARTICLE}, headers=origin).headers
    )
    allowed = cors.post("/v1/summarize", json={"text": ARTICLE}, headers=origin)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "X-Request-Id" in allowed.headers["Access-Control-Expose-Headers"]
    other = cors.post("/v1/summarize", json={"text": ARTICLE}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = cors.options(
        "/v1/summarize",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200 and "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_every_response_says_nosniff(client):
    for response in (client.get("/healthz"), client.get("/missing"), client.post("/v1/summarize", json={})):
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_info_reveals_no_filesystem_path(client):
    info = client.get("/v1/info").get_json()

    def strings(value):
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    assert not [s for s in strings(info) if s.startswith("/") or "site-packages" in s]
