"""Names extensions import from Flask that are not in Flask's top-level namespace."""

from __future__ import annotations

import flask
from flask.app import App as AppFromApp
from flask.sansio.app import App


def test_app_is_the_base_class_of_the_application() -> None:
    # Flask-SQLAlchemy-Lite (and Flask-Admin through it) import flask.sansio.app.App.
    app = flask.Flask(__name__)
    assert isinstance(app, App)
    assert AppFromApp is App
