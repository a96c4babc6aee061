"""Bootstrap-Flask 2.6.0 (its sdist ships no tests): its macros and resources, as documented.

``render_nav_item`` is an imported macro that reads ``request``: it works only
when ``request`` is a Jinja environment global, as in Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from flask_bootstrap import Bootstrap5
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

PAGE = """
<head>{{ bootstrap.load_css() }}</head>
{% from 'bootstrap5/nav.html' import render_nav_item %}
{% from 'bootstrap5/form.html' import render_form %}
{% from 'bootstrap5/utils.html' import render_messages %}
<nav>{{ render_nav_item('index', 'Home') }}{{ render_nav_item('about', 'About') }}</nav>
{{ render_messages() }}
{% if form %}{{ render_form(form) }}{% endif %}
{{ bootstrap.load_js() }}
"""


class NameForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=10)])
    remember = BooleanField("Remember me")
    submit = SubmitField("Send")


def make_app(**config: Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", **config)
    Bootstrap5(app)

    @app.route("/", methods=["GET", "POST"])
    def index() -> Any:
        form = NameForm()
        if form.validate_on_submit():
            flask.flash(f"Hello {form.name.data}", "success")
            return flask.redirect(flask.url_for("about"))
        return flask.render_template_string(PAGE, form=form)

    @app.get("/about")
    def about() -> str:
        return flask.render_template_string(PAGE, form=None)

    return app


def test_nav_item_marks_the_current_endpoint_active(make_client: Callable[..., Any]) -> None:
    client = make_client(make_app())
    html = client.get("/about").text
    assert 'class="nav-item nav-link active" aria-current="page"\n       href="/about"' in html
    assert 'class="nav-item nav-link"\n       href="/"' in html


def test_render_form_draws_fields_errors_and_csrf(make_client: Callable[..., Any]) -> None:
    client = make_client(make_app())
    html = client.get("/").text
    assert "<form" in html and 'method="post"' in html
    assert 'name="csrf_token" type="hidden"' in html
    assert 'class="form-control' in html and 'name="name"' in html
    assert 'class="form-check-input"' in html
    too_long = client.post("/", data={"name": "x" * 11, "csrf_token": _token(html)})
    assert too_long.status_code == 200
    assert "is-invalid" in too_long.text
    assert "Field cannot be longer than 10 characters." in too_long.text


def test_valid_post_flashes_and_render_messages_shows_it(make_client: Callable[..., Any]) -> None:
    client = make_client(make_app())
    token = _token(client.get("/").text)
    response = client.post("/", data={"name": "Ada", "csrf_token": token})
    assert response.status_code == 302
    page = client.get("/about").text
    assert 'class="alert alert-success' in page
    assert "Hello Ada" in page
    assert "Hello Ada" not in client.get("/about").text  # shown once


def test_post_without_csrf_token_is_refused(make_client: Callable[..., Any]) -> None:
    client = make_client(make_app())
    response = client.post("/", data={"name": "Ada"})
    assert response.status_code == 200
    assert "The CSRF token is missing." in response.text


def test_resources_from_cdn_by_default(make_client: Callable[..., Any]) -> None:
    html = make_client(make_app()).get("/about").text
    assert 'href="https://cdn.jsdelivr.net/npm/bootstrap@' in html
    assert 'integrity="sha384-' in html


def test_resources_served_locally(make_client: Callable[..., Any]) -> None:
    client = make_client(make_app(BOOTSTRAP_SERVE_LOCAL=True))
    html = client.get("/about").text
    assert 'href="/bootstrap/static/css/bootstrap.min.css"' in html
    with client.get("/bootstrap/static/css/bootstrap.min.css") as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"
        assert b"Bootstrap" in css.data[:200]


def _token(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
