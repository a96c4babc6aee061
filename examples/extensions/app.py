"""Notes: a login-protected CRUD page built on Flask extensions, served by Kettle.

This is a plain Flask application: it imports ``flask`` and its extensions
(Flask-SQLAlchemy, Flask-Migrate, Flask-Session, Flask-Login, Flask-WTF) and
knows nothing of Kettle. Run it in Kettle's Flask compatibility mode
(``KETTLE_FLASK_COMPAT=1``) and every ``import flask`` -- the app's and the
extensions' -- is Kettle, under WSGI and ASGI alike. See README.md.

Configuration comes from the environment: ``SECRET_KEY`` (required outside
tests), ``DATABASE_URL`` (default: SQLite in the instance folder) and
``REDIS_URL`` (server-side sessions in Redis; without it, in files under the
instance folder).
"""

from __future__ import annotations

import os
from typing import Any

import click
import flask
from cachelib.file import FileSystemCache
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_migrate import Migrate
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect, FlaskForm
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
server_sessions = Session()
csrf = CSRFProtect()  # every POST needs the token, forms or not (logout)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Note(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=40)])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Log in")


class NoteForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=100)])
    body = TextAreaField("Text", validators=[Length(max=10_000)])
    submit = SubmitField("Save")


class DeleteForm(FlaskForm):
    submit = SubmitField("Delete")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


bp = flask.Blueprint("notes", __name__)


def own_note_or_404(note_id: int) -> Note:
    note = db.get_or_404(Note, note_id)
    if note.owner_id != current_user.id:
        flask.abort(404)  # someone else's note does not exist for you
    return note


@bp.route("/")
@login_required
def index() -> str:
    notes = db.session.scalars(
        select(Note).where(Note.owner_id == current_user.id).order_by(Note.id)
    ).all()
    flask.session["visits"] = flask.session.get("visits", 0) + 1
    return flask.render_template(
        "index.html", notes=notes, form=NoteForm(), delete_form=DeleteForm()
    )


@bp.post("/notes")
@login_required
def create() -> Any:
    form = NoteForm()
    if not form.validate_on_submit():
        return flask.render_template("edit.html", form=form, note=None), 400
    db.session.add(Note(title=form.title.data, body=form.body.data or "", owner_id=current_user.id))
    db.session.commit()
    flask.flash(f"Created “{form.title.data}”.")
    return flask.redirect(flask.url_for("notes.index"))


@bp.route("/notes/<int:note_id>", methods=["GET", "POST"])
@login_required
def edit(note_id: int) -> Any:
    note = own_note_or_404(note_id)
    form = NoteForm(obj=note)
    if form.validate_on_submit():
        form.populate_obj(note)
        db.session.commit()
        flask.flash(f"Saved “{note.title}”.")
        return flask.redirect(flask.url_for("notes.index"))
    status = 400 if form.errors else 200
    return flask.render_template("edit.html", form=form, note=note), status


@bp.post("/notes/<int:note_id>/delete")
@login_required
def delete(note_id: int) -> Any:
    note = own_note_or_404(note_id)
    if DeleteForm().validate_on_submit():
        db.session.delete(note)
        db.session.commit()
        flask.flash(f"Deleted “{note.title}”.")
    return flask.redirect(flask.url_for("notes.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is not None and user.check_password(form.password.data or ""):
            login_user(user)
            return flask.redirect(flask.url_for("notes.index"))
        flask.flash("Wrong username or password.")
    return flask.render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Any:
    logout_user()
    flask.session.clear()
    return flask.redirect(flask.url_for("notes.login"))


@bp.cli.command("create-user", help="Create a user who can log in.")
@click.argument("username")
@click.password_option()
def create_user(username: str, password: str) -> None:
    user = User(username=username)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {username}")


def create_app(config: dict[str, Any] | None = None) -> flask.Flask:
    """Build the app; ``config`` overrides what the environment says."""
    app = flask.Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "notes.sqlite")
        ),
        SESSION_PERMANENT=False,
    )
    if os.environ.get("REDIS_URL"):
        import redis

        app.config.update(
            SESSION_TYPE="redis", SESSION_REDIS=redis.from_url(os.environ["REDIS_URL"])
        )
    else:
        app.config.update(
            SESSION_TYPE="cachelib",
            SESSION_CACHELIB=FileSystemCache(os.path.join(app.instance_path, "sessions")),
        )
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("Set SECRET_KEY in the environment (a long random string).")
    db.init_app(app)
    migrate.init_app(app, db)
    server_sessions.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "notes.login"
    app.register_blueprint(bp)
    return app
