"""Main-content extraction from HTML pages (news articles), before the usual cleaning.

`extract()` turns a page into the article's text, one paragraph (or heading, or list
item) a line, since the service's segmentation ends a sentence at every line break,
and the page's title: `og:title`, else `<title>`, else the first `<h1>`.

The extraction is trafilatura's (made and benchmarked for news and blog pages). Its work,
and the parser's, can grow faster than the page: libxml2 checks a tag's attributes for
duplicates in quadratic time (one tag with 100,000 attributes: a minute), and
trafilatura's fallback extractors are quadratic in the paragraphs. So a page is bounded
three times: its size in bytes (the caller's limit); its element count once the elements
that never hold article text (scripts, styles, media) are stripped, with the quadratic
fallbacks kept for small pages; and a deadline, for which `extract()` runs the work in a
child process (forked from a forkserver that has this module loaded) and kills it when
the deadline passes. `extract_in_process()` is the same work without the deadline.

Bytes are decoded by their byte order mark, else with the charset the caller gives (from
Content-Type), else as UTF-8 if they are valid UTF-8, else by a `<meta charset>` near the
start, else by detection (charset_normalizer); text that decodes to binary junk is
refused before parsing.
"""

from __future__ import annotations

import codecs
import logging
import multiprocessing
import re
import unicodedata
from dataclasses import dataclass
from multiprocessing.connection import Connection

import trafilatura
from charset_normalizer import from_bytes
from lxml import etree
from lxml.html import HtmlElement

from service.domain import MAX_TITLE_CHARS
from service.text import count_words

# Elements that never hold article text, removed at C speed before trafilatura sees the tree
# (it deletes them as well, one at a time in Python: seconds on a page padded with thousands).
# Tails (the text after an element) are kept; so is JSON-LD, where trafilatura may find an `articleBody`.
INERT_TAGS = (
    "script",
    "style",
    "template",
    "svg",
    "math",
    "canvas",
    "iframe",
    "object",
    "embed",
    "audio",
    "video",
    "map",
)
# Boilerplate trafilatura's main extractor deletes anyway (its `MANUALLY_CLEANED`), removed up front only
# from a page over `MAX_ELEMENTS`: a huge menu does not get a page refused. Not earlier, since on other
# pages trafilatura's fallbacks read the raw tree and do better with these elements there.
BOILERPLATE_TAGS = ("nav", "menu", "aside", "footer", "noscript", "select", "option", "button", "input", "textarea")
JSON_LD = "//script[@type='application/ld+json']"
# A table holding headings or paragraphs lays out a page: marked as such, trafilatura reads its cells as
# blocks, not as one row of a data table.
LAYOUT_TABLES = "//table[not(@role)][.//h1]"
MIN_PARAGRAPH_WORDS = 12  # an article has a line this long at least (each CJK character is a word)
# trafilatura's fallback extractors (readability, jusText) take time that grows with the square of the
# paragraphs: about 0.35 s of CPU at 1,500 elements, 0.65 s at 2,000, in the worst shapes measured. Larger
# pages get its fast mode (main extractor and baseline): about 0.6 s at 12,000 elements. Real article
# pages have a few hundred to a few thousand elements left once the inert ones are stripped.
FULL_CASCADE_ELEMENTS = 1_500
MAX_ELEMENTS = 12_000
EXTRACT_TIMEOUT_S = 3.0  # the deadline of `extract()`; the bounds above keep real pages far below it
SNIFF_BYTES = 4_096  # where a <meta charset> is looked for
DETECT_SAMPLE_BYTES = 8_192  # charset detection reads the first and last this many bytes
MAX_JUNK_SHARE = 0.05  # more replacement or control characters than this: not a text page

_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s{0,5}=\s{0,5}[\"']?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
_JUNK = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f]")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))

# Extraction children fork from a forkserver with this module imported: a fork of a small clean
# process (never of a threaded server worker) that starts in milliseconds.
_CHILDREN = multiprocessing.get_context("forkserver")
_CHILDREN.set_forkserver_preload([__name__])

# trafilatura logs the pages it cannot use as errors; here they are the client's, answered with a 4xx.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Extracted:
    """The article's text (a paragraph a line) and the page's title, if it has one."""

    text: str
    title: str | None


class PageError(ValueError):
    """A page the service cannot summarize; `code` is the API's stable error code."""

    code = "invalid_page"


class PageTooLarge(PageError):
    code = "page_too_large"


class PageTooComplex(PageError):
    """Too many elements, or extraction past its deadline."""

    code = "page_too_complex"


class NoArticle(PageError):
    code = "no_article"


def extract(
    html: bytes | str, charset: str | None = None, *, max_bytes: int, timeout: float = EXTRACT_TIMEOUT_S
) -> Extracted:
    """The article text and title of an HTML page of at most `max_bytes` (UTF-8 bytes for a str).

    Runs in a child process killed after `timeout` seconds. Raises `PageTooLarge`,
    `PageTooComplex` (too many elements, or past the deadline) or `NoArticle` (not HTML,
    binary data, or nothing article-like on the page).
    """
    _check_size(html, max_bytes)
    receiver, sender = _CHILDREN.Pipe(duplex=False)
    child = _CHILDREN.Process(target=_extract_to, args=(sender, html, charset, max_bytes), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise PageTooComplex(f"the page could not be processed within {timeout:g} s")
        outcome = receiver.recv()
    except EOFError:  # the child died without an answer (killed, out of memory)
        raise PageTooComplex("the page could not be processed within the service's resources") from None
    finally:
        child.kill()
        child.join()
        receiver.close()
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def extract_in_process(html: bytes | str, charset: str | None = None, *, max_bytes: int) -> Extracted:
    """`extract()` in this process, without its deadline (for trusted input and measurements)."""
    _check_size(html, max_bytes)
    markup = html if isinstance(html, str) else decode(html, charset)
    if _is_junk(markup):
        raise NoArticle("the page is not text (binary data or a wrong charset)")
    tree = trafilatura.load_html(markup)
    if tree is None:
        raise NoArticle("the page is not HTML")
    title = page_title(tree)
    _strip(tree, INERT_TAGS)
    elements = _elements(tree)
    if elements > MAX_ELEMENTS:
        _strip(tree, BOILERPLATE_TAGS)
        elements = _elements(tree)
        if elements > MAX_ELEMENTS:
            raise PageTooComplex(
                f"the page has {elements} elements besides scripts, media and navigation; the limit is {MAX_ELEMENTS}"
            )
    for table in tree.xpath(LAYOUT_TABLES):
        table.set("role", "presentation")
    text = _article_text(tree, fast=elements > FULL_CASCADE_ELEMENTS)
    if not any(count_words(line) >= MIN_PARAGRAPH_WORDS for line in text.splitlines()):
        raise NoArticle("no article text found on the page: no paragraph, only short lines such as links")
    return Extracted(text=text, title=title)


def decode(data: bytes, charset: str | None = None) -> str:
    """Bytes to text: a byte order mark, the given charset, UTF-8, a `<meta charset>`, else detection."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    text = _decode_as(data, charset)
    if text is not None:
        return text
    try:
        return data.decode("utf-8")  # valid UTF-8 with any non-ASCII byte is UTF-8, whatever a <meta> says
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:SNIFF_BYTES])
    text = _decode_as(data, declared and declared.group(1).decode("ascii"))
    if text is not None:
        return text
    sample = data if len(data) <= 2 * DETECT_SAMPLE_BYTES else data[:DETECT_SAMPLE_BYTES] + data[-DETECT_SAMPLE_BYTES:]
    plausible = [match.encoding for match in from_bytes(sample)]
    # windows-1252, the web's usual legacy encoding, whenever it is plausible: detection confuses the
    # Latin code pages on short texts (French as mac_latin2), and never offers cp1252 for Cyrillic or CJK.
    guess = "cp1252" if "cp1252" in plausible else next(iter(plausible), None)
    return _decode_as(data, guess) or data.decode("utf-8", errors="replace")


def page_title(tree: HtmlElement) -> str | None:
    """`og:title`, else `<title>`, else the first `<h1>`, on one line; None when the page has none."""
    candidates = (
        *tree.xpath("//meta[@property='og:title' or @name='og:title']/@content"),
        *(element.text_content() for element in tree.xpath("//title[not(ancestor::svg)]")),
        *(element.text_content() for element in tree.iter("h1")),
    )
    for candidate in candidates:
        title = " ".join(candidate.split())
        if title:
            return title if len(title) <= MAX_TITLE_CHARS else title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return None


def _check_size(html: bytes | str, max_bytes: int) -> None:
    size = len(html) if isinstance(html, bytes) else len(html.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise PageTooLarge(f"the page has {size} bytes; the limit is {max_bytes}")


def _extract_to(sender: Connection, html: bytes | str, charset: str | None, max_bytes: int) -> None:
    """The child's work: send the `Extracted`, or the exception (a `PageError` for the client's pages)."""
    try:
        outcome: Extracted | Exception = extract_in_process(html, charset, max_bytes=max_bytes)
    except PageError as error:
        outcome = error
    except Exception as error:  # a bug: re-raised in the parent as such, with the child's message
        outcome = RuntimeError(f"HTML extraction failed: {error!r}")
    sender.send(outcome)


def _strip(tree: HtmlElement, tags: tuple[str, ...]) -> None:
    """Remove the elements named `tags` with their content, keeping their tails and JSON-LD scripts."""
    json_ld = tree.xpath(JSON_LD)
    for script in json_ld:
        script.tag = "json-ld"
    etree.strip_elements(tree, *tags, with_tail=False)
    for script in json_ld:
        script.tag = "script"


def _elements(tree: HtmlElement) -> int:
    return int(tree.xpath("count(//*)"))


def _article_text(tree: HtmlElement, fast: bool) -> str:
    """trafilatura's main text, Unicode-normalized (NFC), a paragraph a line, spaces collapsed."""
    document = trafilatura.bare_extraction(
        tree, fast=fast, include_comments=False, with_metadata=False, deduplicate=False
    )
    if document is None or not document.text:
        return ""
    lines = (" ".join(line.split()) for line in unicodedata.normalize("NFC", document.text).splitlines())
    return "\n".join(line for line in lines if line)


def _decode_as(data: bytes, encoding: str | None) -> str | None:
    """`data` decoded with `encoding`; None if it names no text encoding Python knows."""
    if not encoding:
        return None
    try:
        return data.decode(encoding, errors="replace")
    except (LookupError, TypeError):  # unknown, or a bytes-to-bytes codec such as "zlib"
        return None


def _is_junk(text: str) -> bool:
    sample = text[:65_536]
    return bool(sample) and len(_JUNK.findall(sample)) > MAX_JUNK_SHARE * len(sample)
