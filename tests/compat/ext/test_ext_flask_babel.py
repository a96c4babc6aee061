"""Flask-Babel 4.0.0 (its sdist ships no tests): locale selection, translations, formatting.

The German catalog is compiled by the test (Babel's own catalog writer) into
the app's ``translations`` folder, as ``pybabel compile`` would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask_babel import (
    Babel,
    force_locale,
    format_currency,
    format_datetime,
    format_decimal,
    get_locale,
    gettext,
    lazy_gettext,
    ngettext,
)

WHEN = datetime(2024, 3, 1, 14, 5, tzinfo=UTC)


def write_catalog(root: Path) -> None:
    catalog = Catalog(locale="de")
    catalog.add("Hello %(name)s", "Hallo %(name)s")
    catalog.add(("%(num)d apple", "%(num)d apples"), ("%(num)d Apfel", "%(num)d Äpfel"))
    catalog.add("Title", "Titel")
    folder = root / "translations" / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as f:
        write_mo(f, catalog)


def make_app(tmp_path: Path) -> flask.Flask:
    write_catalog(tmp_path)
    app = flask.Flask(__name__, root_path=str(tmp_path))

    def locale_selector() -> str | None:
        return flask.request.args.get("lang") or flask.request.accept_languages.best_match(
            ["en", "de"]
        )

    def timezone_selector() -> str | None:
        return flask.request.args.get("tz")

    Babel(app, locale_selector=locale_selector, timezone_selector=timezone_selector)
    title = lazy_gettext("Title")

    @app.get("/")
    def index() -> dict[str, Any]:
        return {
            "locale": str(get_locale()),
            "hello": gettext("Hello %(name)s", name="Ada"),
            "apples": ngettext("%(num)d apple", "%(num)d apples", 3),
            "lazy": str(title),
            "when": format_datetime(WHEN, "short"),
            "price": format_currency(1234.5, "EUR"),
            "number": format_decimal(1234.5),
        }

    @app.get("/page")
    def page() -> str:
        return flask.render_template_string(
            "{{ _('Hello %(name)s', name=who) }}|{{ ngettext('%(num)d apple', '%(num)d apples', 1) }}",
            who="<b>",
        )

    return app


def test_locale_from_accept_language(tmp_path: Path, make_client: Callable[..., Any]) -> None:
    client = make_client(make_app(tmp_path))
    got = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_json()
    assert got["locale"] == "de"
    assert got["hello"] == "Hallo Ada"
    assert got["apples"] == "3 Äpfel"
    assert got["lazy"] == "Titel"
    assert got["price"] == "1.234,50\xa0€"
    assert got["number"] == "1.234,5"


def test_default_locale_and_untranslated_text(
    tmp_path: Path, make_client: Callable[..., Any]
) -> None:
    client = make_client(make_app(tmp_path))
    got = client.get("/", headers={"Accept-Language": "fr"}).get_json()
    assert got["locale"] == "en"
    assert got["hello"] == "Hello Ada"
    assert got["apples"] == "3 apples"
    assert got["price"] == "€1,234.50"


def test_timezone_selector_moves_the_time(tmp_path: Path, make_client: Callable[..., Any]) -> None:
    client = make_client(make_app(tmp_path))
    utc = client.get("/?lang=en").get_json()["when"]
    berlin = client.get("/?lang=en&tz=Europe/Berlin").get_json()["when"]
    assert utc.endswith("2:05\u202fPM") or utc.endswith("2:05 PM")
    assert berlin.endswith("3:05\u202fPM") or berlin.endswith("3:05 PM")


def test_template_gettext_is_translated_and_escaped(
    tmp_path: Path, make_client: Callable[..., Any]
) -> None:
    client = make_client(make_app(tmp_path))
    assert client.get("/page?lang=de").text == "Hallo &lt;b&gt;|1 Apfel"
    assert client.get("/page?lang=en").text == "Hello &lt;b&gt;|1 apple"


def test_force_locale_outside_a_request(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.test_request_context("/"):
        assert gettext("Title") == "Title"
        with force_locale("de"):
            assert gettext("Title") == "Titel"
            assert str(get_locale()) == "de"
        assert gettext("Title") == "Title"
