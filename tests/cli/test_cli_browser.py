"""The debug page as a person sees it: headless Chromium against a real ``kettle run``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.live, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
KETTLE = str(Path(sys.executable).with_name("kettle"))

APP = """
from kettle import Kettle

app = Kettle(__name__)

@app.route("/")
def index():
    return "ok"

@app.route("/orders/<int:order_id>")
def order(order_id):
    basket_total = {"tea": 3, "cups": 2}
    return str(basket_total["kettles"])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_debug_page_in_chromium(tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs it")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    (tmp_path / "app.py").write_text(APP)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KETTLE_", "FLASK_"))}
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [KETTLE, "--debug", "run", "--no-reload", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                ],
            )
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 1600})
                response = page.goto(f"http://127.0.0.1:{port}/orders/7?coupon=none")
                assert response is not None
                assert response.status == 500
                assert page.title().startswith("KeyError: 'kettles'")
                assert page.locator("header h1").inner_text() == "KeyError"
                # The failing line's source, and the frame's locals, are on screen.
                current = page.locator(".current").filter(has_text='basket_total["kettles"]')
                assert current.first.is_visible()
                local = page.locator("th", has_text="basket_total").first
                assert local.is_visible()
                assert "'tea': 3" in page.locator("td").filter(has_text="'tea': 3").first.inner_text()
                assert page.locator("td", has_text="http://127.0.0.1").first.is_visible()
                plain = page.locator("#plain-traceback").input_value()
                assert plain.startswith("Traceback (most recent call last):")
                assert plain.rstrip().endswith("KeyError: 'kettles'")
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "cli-debug-page.png"), full_page=True)
            finally:
                browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
