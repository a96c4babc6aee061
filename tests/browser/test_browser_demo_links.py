"""Every link of the demo's index, followed in headless Chromium under ``kettle run``.

Each answers (no error page the index does not promise, no empty reply), and
each HTML page carries the demo's layout with a link home.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo"))
from demo_server import serve_demo
from test_browser_demo import browser as browser

pytestmark = pytest.mark.browser

#: The statuses the index promises (its link text says so); every other link answers 200.
PROMISED = {
    "/rep": {201},
    "/response": {201},
    "/brew/coffee": {418},
    "/status/666": {666},
    "/404": {404},
    "/abort/403": {403},
    "/abort/418": {418},
    "/json-error": {500},
    "/admin": {200, 403},  # 403 until the "log in" link has been followed
}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_demo(tmp_path_factory.mktemp("links-server") / "server.log") as base:
        yield base


def index_links(page: Any, base_url: str) -> list[str]:
    page.goto(base_url + "/")
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.href)")
    seen: list[str] = []
    for href in hrefs:
        if href not in seen:
            seen.append(href)
    return seen


def test_every_index_link_answers_with_the_layout(browser: Any, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        links = index_links(page, base_url)
        assert len(links) > 40
        problems: list[str] = []
        for href in links:
            problems.extend(check_link(page, base_url, href))
    finally:
        context.close()
    assert problems == []


def check_link(page: Any, base_url: str, href: str) -> list[str]:
    path = urlparse(href).path
    # Links that leave the site (to example.com) are checked without following them.
    first = httpx.get(href, follow_redirects=False, timeout=10)
    location = first.headers.get("location")
    if location and urlparse(urljoin(href, location)).netloc != urlparse(base_url).netloc:
        return [] if first.status_code in (301, 302, 303, 307, 308) else [f"{href}: {first}"]
    response = page.goto(href)
    if response is None:
        return [f"{href}: no response"]
    problems = []
    allowed = PROMISED.get(path, {200})
    if response.status not in allowed:
        problems.append(f"{href}: status {response.status}, expected {sorted(allowed)}")
    body = response.body()
    if not body:
        problems.append(f"{href}: empty reply")
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/html"):
        home = page.locator("a[href='/']")
        if home.count() == 0:
            problems.append(f"{href}: no link home")
        if page.locator("link[rel=stylesheet]").count() == 0 or page.locator(".brand").count() == 0:
            problems.append(f"{href}: without the demo's layout")
    return problems
