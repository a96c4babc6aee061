"""The HTTP demo in headless Chromium (Playwright), served by ``kettle run``.

Never downloads a browser: it drives the system's /usr/bin/chromium, and is
skipped when that is missing, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo"))
from demo_server import ROOT, serve_demo

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_demo(tmp_path_factory.mktemp("browser-server") / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install chromium (make system-deps).")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()


def shot(page: Any, name: str) -> None:
    """Save a screenshot to test-artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"), full_page=True)


def test_index_loads(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    assert page.title() == "All examples · Kettle"
    assert page.locator("h1").inner_text() == "Flask and HTTP, on Kettle"
    # The stylesheet applied: the brand takes the accent colour.
    color = page.locator(".brand").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(194, 65, 12)"
    shot(page, "index")


def test_load_more_adds_text(page: Any, base_url: str) -> None:
    page.goto(base_url + "/post")
    before = len(page.locator("#post-body").inner_text())
    page.click("#load")
    page.wait_for_selector("#post-body .more")
    assert len(page.locator("#post-body").inner_text()) > before
    shot(page, "load-more")


def test_login_admin_logout(page: Any, base_url: str) -> None:
    response = page.goto(base_url + "/admin")
    assert response.status == 403
    page.goto(base_url + "/")
    page.click("#login")
    page.wait_for_url(base_url + "/hello")
    assert "[Authenticated]" in page.content()
    response = page.goto(base_url + "/admin")
    assert response.status == 200
    assert page.locator("main").inner_text() == "Welcome to admin page."
    shot(page, "admin")
    page.goto(base_url + "/")
    page.click("#logout")
    page.wait_for_url(base_url + "/hello")
    assert "[Not Authenticated]" in page.content()
    assert page.goto(base_url + "/admin").status == 403


def test_sse_chat_between_two_pages(browser: Any, base_url: str) -> None:
    contexts = [browser.new_context() for _ in range(2)]
    try:
        sender, receiver = (context.new_page() for context in contexts)
        for page in (sender, receiver):
            page.set_default_timeout(10_000)
            page.goto(base_url + "/chat")
            page.wait_for_selector("#chat-messages[data-ready=yes]")
        sender.fill("[name=user]", "alice")
        sender.fill("[name=message]", "hello from alice")
        sender.click("#send")
        receiver.wait_for_selector("#chat-messages li")
        assert receiver.locator("#chat-messages li").first.inner_text() == "alice: hello from alice"
        shot(receiver, "sse-chat")
    finally:
        for context in contexts:
            context.close()


def test_upload_a_file(page: Any, base_url: str, tmp_path: Path) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_text("uploaded by chromium")
    page.goto(base_url + "/upload")
    page.set_input_files("#file", str(upload))
    page.click("#upload")
    page.wait_for_selector("#saved")
    assert page.locator("#saved").inner_text().startswith("Saved notes.txt as ")
    shot(page, "upload")
