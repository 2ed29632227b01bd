"""The "try it" page at `GET /`: headers and markup (Flask test client), and the real page in headless Chromium.

The browser tests drive Debian's /usr/bin/chromium through its matching /usr/bin/chromedriver with Selenium
against the real gunicorn server. Without them they skip, unless REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from tiny_models import ARTICLE, build_bart

from service.launcher import REPO, start_server

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver import ActionChains
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:  # the test-client test runs without it; the `browser` fixture reports it
    webdriver = None

STATIC = REPO / "service" / "static"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", REPO / "reports" / "artifacts"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# Headless, as root, and never towards the network (no updates, sync, QUIC or first-run pings).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1360,1080",
]
HOSTILE = "<img src=x onerror=alert(1)>"
FAST_GENERATION = {"short": {"num_beams": 2}, "bullets": {"num_beams": 2, "min_new_tokens": 8, "max_new_tokens": 40}}


# -- served page (Flask test client) ---------------------------------------------------------------


class _Markup(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.script_sources: list[str | None] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.script_sources.append(attributes.get("src"))
            self._in_script = True
        if tag == "style":
            self.inline.append("<style>")
        self.inline += [f"{tag} {name}=" for name in attributes if name == "style" or name.startswith("on")]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"<script>{data.strip()[:40]}")


def test_page_and_assets_are_served_under_a_strict_csp(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    csp = dict(directive.split(" ", 1) for directive in page.headers["Content-Security-Policy"].split("; "))
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == csp["base-uri"] == "'none'"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    markup = _Markup()
    markup.feed(page.get_data(as_text=True))
    assert markup.script_sources == ["/static/app.js"] and markup.inline == []
    for asset, mimetype in [("/static/app.js", "text/javascript"), ("/static/app.css", "text/css")]:
        response = client.get(asset)
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["Content-Security-Policy"] == page.headers["Content-Security-Policy"]
        response.close()
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"


def test_script_never_parses_strings_as_html():
    script = (STATIC / "app.js").read_text()
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "DOMParser",
        "eval(",
        'setAttribute("style',
    ):
        assert sink not in script


# -- real browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium (system binary and its matching chromedriver); skips or fails when missing."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    if webdriver is None:
        missing.append("the selenium package")
    if missing:
        reason = (
            f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver; pip install selenium)"
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.unhandled_prompt_behavior = "ignore"  # a dialog stays open, so the test can see it
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(CHROMEDRIVER)
    )  # a given driver path: no Selenium Manager
    try:
        yield driver
    finally:
        driver.quit()


def open_page(browser, url: str) -> None:
    browser.get(f"{url}/")
    WebDriverWait(browser, 10).until(
        lambda driver: driver.find_element(By.ID, "engine-info").text.startswith("Engine:")
    )


def summarize(browser, text: str, *, paste: bool = False) -> None:
    """Type (or paste: chromedriver types only BMP characters) the article, submit, wait for a summary or an error."""
    box = browser.find_element(By.ID, "article-input")
    box.clear()
    if paste:
        browser.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", box, text
        )
    else:
        box.send_keys(text)
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 30).until(
        lambda driver: (
            driver.find_element(By.ID, "summary-panel").is_displayed()
            or driver.find_element(By.ID, "error").is_displayed()
        )
    )


def highlighted_pieces(browser) -> list[tuple[int, int, str]]:
    """(start, end, text) of every highlighted piece of the article, in document order."""
    script = (
        "return [...document.querySelectorAll('#article mark.active')]"
        ".map(m => [+m.dataset.start, +m.dataset.end, m.textContent]);"
    )
    return [tuple(piece) for piece in browser.execute_script(script)]


def characters(spans) -> set[int]:
    """Offsets of the characters that (start, end, ...) spans cover."""
    return {offset for start, end, *_ in spans for offset in range(start, end)}


def console_errors(browser) -> list[str]:
    """Severe console messages (script errors, CSP violations) other than HTTP error statuses of fetches."""
    entries = browser.get_log("browser")
    return [
        entry["message"]
        for entry in entries
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]


def save_screenshot(browser, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / name))


def test_summary_bullets_highlight_their_source_sentence(browser, live_server, huawei_text):
    open_page(browser, live_server)
    summarize(browser, huawei_text)
    expected = requests.post(f"{live_server}/v1/summarize", json={"text": huawei_text}, timeout=60).json()
    short = browser.find_element(By.CSS_SELECTOR, "#short .item-text")
    assert short.is_displayed() and short.get_attribute("textContent") == expected["short"]
    buttons = browser.find_elements(By.CSS_SELECTOR, "#bullets button.grounded")
    texts = [button.find_element(By.CLASS_NAME, "item-text").get_attribute("textContent") for button in buttons]
    assert 3 <= len(texts) <= 5 and texts == expected["bullets"]
    meta = browser.find_element(By.ID, "meta").text
    assert "Latency:" in meta and "ms" in meta and "embedded" in meta
    assert highlighted_pieces(browser) == []

    for index, (button, text) in enumerate(zip(buttons, texts)):
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        pieces = highlighted_pieces(browser)
        start, end = pieces[0][0], pieces[-1][1]
        assert all(left[1] == right[0] for left, right in zip(pieces, pieces[1:])), "one contiguous span"
        assert "".join(piece for _, _, piece in pieces) == huawei_text[start:end] == text
        sources = expected["grounding"]["bullets"][index]["sources"]
        assert [(source["start"], source["end"]) for source in sources] == [(start, end)]

    buttons[0].click()
    buttons[0].send_keys(Keys.TAB)  # keyboard: focusing the next bullet highlights its source
    assert browser.switch_to.active_element == buttons[1]
    assert "".join(piece for _, _, piece in highlighted_pieces(browser)) == texts[1]
    buttons[1].send_keys(Keys.SPACE)
    assert [button.get_attribute("aria-pressed") for button in buttons[:2]] == ["false", "true"]
    assert console_errors(browser) == []
    ActionChains(browser).move_to_element(
        browser.find_element(By.ID, "article-heading")
    ).perform()  # no hover in the picture
    save_screenshot(browser, "web_page.png")


def test_hostile_input_is_shown_as_text_and_never_runs(browser, live_server, huawei_text):
    open_page(browser, live_server)
    for article in (f"{huawei_text}\n{HOSTILE}\n", HOSTILE):  # inside an article, then alone (422 no_sentences)
        summarize(browser, article)
        with pytest.raises(TimeoutException):
            WebDriverWait(browser, 1).until(expected_conditions.alert_is_present())
        assert browser.find_elements(By.TAG_NAME, "img") == []
        view = browser.find_element(By.ID, "article")
        assert view.is_displayed() and view.get_attribute("textContent") == article
        assert HOSTILE in view.text
        assert console_errors(browser) == []  # a CSP violation here would mean the handler was created
    save_screenshot(browser, "web_page_hostile.png")


def test_offsets_count_code_points_not_utf16_units(browser, live_server):
    """The API's offsets index Python strings; characters outside the BMP are two units in JavaScript."""
    article = ARTICLE.replace(". ", ". 🚀🌍 ")  # every sentence after the first starts behind two emoji
    open_page(browser, live_server)
    summarize(browser, article, paste=True)
    buttons = browser.find_elements(By.CSS_SELECTOR, "#bullets button.grounded")
    assert len(buttons) >= 3
    for button in buttons:
        button.click()
        pieces = highlighted_pieces(browser)
        text = button.find_element(By.CLASS_NAME, "item-text").get_attribute("textContent")
        assert "".join(piece for _, _, piece in pieces) == article[pieces[0][0] : pieces[-1][1]] == text


def test_api_errors_are_shown_readably(browser, live_server):
    open_page(browser, live_server)
    summarize(browser, "   ")
    error = browser.find_element(By.ID, "error")
    assert "(empty_text, HTTP 400)" in error.text and "empty" in error.text.split("(")[0]
    assert not browser.find_element(By.ID, "summary-panel").is_displayed()


@pytest.fixture(scope="module")
def flagging_server(tmp_path_factory):
    """A real server on a tiny BART model whose support threshold (1.5) flags every sentence it writes."""
    model = build_bart(tmp_path_factory.mktemp("models") / "bart")
    overrides = {"SUMMARIZER_MODEL": str(model), "SUMMARIZER_DEVICE": "cpu", "SUMMARIZER_SUPPORT_THRESHOLD": "1.5"}
    server = start_server({**overrides, "SUMMARIZER_GENERATION": json.dumps(FAST_GENERATION)})
    try:
        yield server.url
    finally:
        server.stop()


def test_low_support_sentences_are_marked(browser, flagging_server):
    open_page(browser, flagging_server)
    summarize(browser, ARTICLE)
    expected = requests.post(f"{flagging_server}/v1/summarize", json={"text": ARTICLE}, timeout=60).json()
    buttons = browser.find_elements(By.CSS_SELECTOR, "#summary-panel button.grounded")
    assert len(buttons) == 1 + len(expected["bullets"])
    for button, grounding in zip(buttons, [expected["grounding"]["short"], *expected["grounding"]["bullets"]]):
        badge = button.find_element(By.CLASS_NAME, "low-support")
        assert badge.text == f"low support {grounding['support']:.2f}"
        button.click()
        pieces = highlighted_pieces(browser)
        assert all(ARTICLE[start:end] == text for start, end, text in pieces)
        assert characters(pieces) == characters([(source["start"], source["end"]) for source in grounding["sources"]])
    warnings = browser.find_element(By.ID, "warnings")
    assert warnings.is_displayed() and warnings.text.splitlines() == expected["warnings"]
    assert "abstractive" in browser.find_element(By.ID, "meta").text
    save_screenshot(browser, "web_page_low_support.png")


def test_the_api_docs_page_renders_offline(browser, live_server):
    """Swagger UI from the package, on the server's own document: every operation listed, no console error."""
    browser.get(f"{live_server}/docs")
    WebDriverWait(browser, 20).until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= 6)
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/v1/summarize", "/v1/summarize/batch", "/v1/info", "/healthz", "/readyz", "/metrics"} <= paths
    assert console_errors(browser) == []
    save_screenshot(browser, "api_docs.png")
