"""The "Flask and HTTP" demo: every example of the material, running on Kettle.

Serve it with ``make demo`` (``.venv/bin/kettle --app examples/http/app.py run``,
uvicorn underneath). Each page is linked from the index. Apart from the
import lines, the views are written exactly as they would be for Flask.

Under another server, from this folder (``cd examples/http``):

* ASGI, everything works (SSE and WebSocket chats)::

      uvicorn app:app.asgi --port 5000
      granian --interface asgi --port 5000 app:app.asgi

* WSGI with gunicorn: one process, many threads::

      gunicorn -k gthread --threads 16 -w 1 -b 127.0.0.1:5000 app:app

  An open SSE stream (the chat, long polling) holds one thread for as long
  as the page is open, so use the threaded worker: with the default sync
  worker one open chat page blocks the only worker until its timeout. Keep
  one process (``-w 1``): the chat's broker lives in process memory (set
  ``BROKER_URL`` to a Redis URL for more). WSGI cannot upgrade to
  WebSocket: the WebSocket chat page says so, and the server logs one line.
  Ctrl+C ends open streams and stops at once; SIGTERM waits for them up to
  ``--graceful-timeout`` (30 s by default).
"""

from __future__ import annotations

import asyncio
import atexit
import datetime
import os
import shutil
import sqlite3
import struct
import tempfile
import threading
import uuid
import zlib
from collections.abc import AsyncIterator
from typing import Any

from jinja2.utils import generate_lorem_ipsum
from markupsafe import Markup, escape

from kettle import (
    Kettle,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    redirect_back,
    render_template,
    request,
    session,
    url_for,
    websocket,
)
from kettle.csrf import CSRFProtect, rotate_csrf
from kettle.http.exceptions import HTTPException
from kettle.push import EventStream, long_poll, publish, subscribe
from kettle.routing.converters import BaseConverter
from kettle.websocket import WebSocketDisconnect

app = Kettle(__name__)
app.config.update(
    # A demo key; a real app reads it from the environment (see docs/security).
    SECRET_KEY=os.environ.get("SECRET_KEY", "kettle-demo-secret-key"),
    # 2 MiB is plenty for the upload demo; larger bodies get a 413.
    MAX_CONTENT_LENGTH=2 * 1024 * 1024,
)


# --- Where uploads and notes go ---------------------------------------------------

_folder_lock = threading.Lock()


def demo_folder() -> str:
    """A private temporary folder for uploads and notes: made on first use, removed at exit.

    Importing the demo (``kettle routes``, the tests) leaves nothing behind.
    """
    with _folder_lock:
        folder: str | None = app.config.get("DEMO_FOLDER")
        if folder is None:
            folder = tempfile.mkdtemp(prefix="kettle-demo-")
            atexit.register(shutil.rmtree, folder, True)
            app.config["DEMO_FOLDER"] = folder
        return folder


# --- Routing: a custom converter ---------------------------------------------


class RegexConverter(BaseConverter):
    """Match a segment against the regular expression given in the rule."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.regex = args[0]


app.url_map.converters["re"] = RegexConverter

# Every POST, PUT, PATCH and DELETE must carry the session's CSRF token; the
# material's API-style examples (posted by tools like Postman) are exempt.
csrf = CSRFProtect(app)


# --- Request hooks --------------------------------------------------------------

#: When each client (by address) was last seen: what a before_request hook records.
LAST_SEEN: dict[str, str] = {}
STARTED: dict[str, str] = {}


@app.before_first_request
def remember_start() -> None:
    STARTED["at"] = datetime.datetime.now().isoformat(timespec="seconds")


@app.before_request
def record_last_seen() -> None:
    g.name = request.args.get("name")
    address = request.remote_addr or "unknown"
    g.last_seen = LAST_SEEN.get(address)
    LAST_SEEN[address] = datetime.datetime.now().isoformat(timespec="seconds")


@app.after_request
def add_demo_header(response: Response) -> Response:
    response.headers["X-Demo"] = "kettle"
    return response


#: Views answering AJAX requests with a piece of a page, never a whole page.
FRAGMENT_ENDPOINTS = {"load_post", "get_comments"}


@app.after_request
def wrap_in_layout(response: Response) -> Response:
    # The material's views return bare HTML strings; give each the demo's layout
    # and its link home. Whole pages (templates), redirects and non-HTML pass as they are.
    status = response.status_code
    if (
        response.mimetype != "text/html"
        or response.is_streamed
        or status in (204, 304)
        or 300 <= status < 400
        or request.endpoint in FRAGMENT_ENDPOINTS
    ):
        return response
    body = response.get_data(as_text=True)
    if body.lstrip()[:9].lower() == "<!doctype":
        return response
    title = (request.endpoint or "page").replace("_", " ")
    # The body is the view's own HTML (user input in it is escaped by the view).
    response.set_data(render_template("page.html", title=title, content=Markup(body)))
    return response


@app.teardown_appcontext
def close_db(exception: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


# --- Index and hello --------------------------------------------------------------


@app.route("/")
def index() -> str:
    return render_template("index.html")


@app.route("/hello", methods=["GET", "POST"])
@csrf.exempt
def hello() -> str:
    name = request.args.get("name")
    if name is None:
        name = request.cookies.get("name", "Human")
    response = "<h1>Hello, %s!</h1>" % escape(name)
    if "logged_in" in session:
        response += "[Authenticated]"
    else:
        response += "[Not Authenticated]"
    return response


# Several URLs for one view.
@app.route("/hey")
@app.route("/howdy")
def say_hello() -> str:
    return "<h1>Hello, Kettle!</h1>"


# A dynamic URL with a default value.
@app.route("/greet", defaults={"name": "Programmer"})
@app.route("/greet/<name>")
def greet(name: str) -> str:
    return "<h1>Hello, %s!</h1>" % escape(name)


@app.route("/goback/<int:year>")
def go_back(year: int) -> str:
    return "<p>Welcome to %d!</p>" % (datetime.date.today().year - year)


@app.route("/colors/<any(blue, white, red):color>")
def three_colors(color: str) -> str:
    return "<p>%s: Love is patient and kind.</p>" % color


@app.route("/goods/<float:cid>/<uuid:gid>")
def goods(cid: float, gid: uuid.UUID) -> str:
    return f"cid={cid} ({type(cid).__name__}), gid={gid} ({type(gid).__name__})"


@app.route(r"/sms/<re('1[3-9]\d{9}'):mobile>")
def sms(mobile: str) -> str:
    return f"Sending a text message to {mobile}"


@app.route(r"/item/<re('\d+'):id>")
def item(id: str) -> str:
    return f"Item id={id}"


# --- The request object -----------------------------------------------------------


@app.route("/qs")
def qs() -> Any:
    return jsonify(
        user=request.args.get("user"),
        fav=request.args.getlist("fav"),
        query_string=request.query_string.decode("latin-1"),
    )


@app.route("/header", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@csrf.exempt
def header() -> Any:
    return jsonify(
        method=request.method,
        path=request.path,
        full_path=request.full_path,
        url=request.url,
        host=request.host,
        host_url=request.host_url,
        user_agent=request.headers.get("User-Agent"),
        custom=request.headers.get("X-Company"),
        remote_addr=request.remote_addr,
    )


@app.route("/form1", methods=["POST"])
@csrf.exempt
def form1() -> Any:
    return jsonify(username=request.form.get("username"), fav=request.form.getlist("fav"))


@app.route("/data", methods=["POST"])
@csrf.exempt
def data() -> Any:
    return jsonify(is_json=request.is_json, json=request.get_json(silent=True))


@app.route("/hooks")
def hooks() -> str:
    return render_template(
        "hooks.html", last_seen=g.last_seen, name=g.name, started=STARTED.get("at")
    )


@app.route("/contexts")
def contexts() -> Any:
    return jsonify(app=current_app.name, g_name=g.name, path=request.path)


# --- Responses ------------------------------------------------------------------


@app.route("/rep")
def rep() -> Any:
    return "ok", 201, {"Company": "python-35"}


@app.route("/response")
def response_object() -> Response:
    return Response("Default home page", 201, {"company": "python"})


@app.route("/brew/coffee")
def brew_coffee() -> Any:
    return "I'm a teapot", 418


@app.route("/status/666")
def status_666() -> Any:
    return "ok", 666


@app.route("/set-location")
def set_location() -> Any:
    return "", 302, {"Location": "http://www.example.com"}


@app.route("/external")
def external() -> Response:
    return redirect("http://www.example.com")


@app.route("/hi")
def hi() -> Response:
    return redirect(url_for("hello"))


@app.route("/demo/<int:mob>")
def mobile(mob: int) -> str:
    return f"mobile={mob}"


@app.route("/sms-redirect")
def sms_redirect() -> Response:
    return redirect(url_for("mobile", mob=13312345678))


@app.route("/404")
def not_found() -> None:
    abort(404)


@app.route("/abort/<int:code>")
def abort_with(code: int) -> None:
    if code not in (403, 404, 418):
        abort(400)
    abort(code)


@app.route("/foo-plain")
def foo_plain() -> Response:
    response = make_response("Hello")
    response.mimetype = "text/plain"
    return response


NOTE = {"to": "Peter", "from": "Jane", "heading": "Reminder", "body": "Don't forget the party!"}


@app.route("/note/<content_type>")
def note(content_type: str) -> Any:
    content_type = content_type.lower()
    if content_type == "text":
        body = "Note\n" + "".join(f"{k}: {v}\n" for k, v in NOTE.items())
        return body, 200, {"Content-Type": "text/plain; charset=utf-8"}
    if content_type == "html":
        items = "".join(f"<li>{k}: {escape(v)}</li>" for k, v in NOTE.items())
        return f"<h1>Note</h1><ul>{items}</ul>"
    if content_type == "xml":
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in NOTE.items())
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<note>{fields}</note>'
        return body, 200, {"Content-Type": "application/xml"}
    if content_type == "json":
        return jsonify(note=NOTE)
    abort(404)


@app.route("/foo-json")
def foo_json() -> Response:
    return jsonify(name="lily", age=18)


@app.route("/jsonapi")
def jsonapi() -> Response:
    return jsonify({"name": "xiaoming", "age": 16})


@app.route("/json-error")
def json_error() -> Any:
    return jsonify(message="error"), 500


def _tiny_png() -> bytes:
    """Build a 16x16 kettle-orange PNG in memory, so the demo ships no binary file."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    width = height = 16
    row = b"\x00" + b"\xe0\x6c\x2b" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


AVATAR = _tiny_png()


@app.route("/img")
def img() -> Any:
    return AVATAR, 200, {"Content-Type": "image/png"}


# --- Cookies and session ------------------------------------------------------------


@app.route("/set/<name>")
def set_cookie(name: str) -> Response:
    response = make_response(redirect(url_for("hello")))
    response.set_cookie("name", name)
    return response


@app.route("/cookie")
def read_cookie() -> str:
    return "name cookie: %s" % escape(request.cookies.get("name", "(not set)"))


@app.route("/cookie/delete")
def delete_cookie() -> Response:
    response = make_response(redirect(url_for("read_cookie")))
    response.delete_cookie("name")
    return response


@app.route("/login")
def login() -> Response:
    # At login: a new session id (server-side sessions) and a new CSRF secret,
    # so nothing an attacker saw or planted before the login is worth anything.
    session.regenerate()
    rotate_csrf()
    session["logged_in"] = True
    return redirect(url_for("hello"))


@app.route("/admin")
def admin() -> str:
    if "logged_in" not in session:
        abort(403)
    return "Welcome to admin page."


@app.route("/logout")
def logout() -> Response:
    if "logged_in" in session:
        session.pop("logged_in")
    return redirect(url_for("hello"))


# --- Redirect back --------------------------------------------------------------


@app.route("/foo")
def foo() -> str:
    return '<h1>Foo page</h1><a href="%s">Do something and redirect</a>' % url_for(
        "do_something", next=request.full_path
    )


@app.route("/bar")
def bar() -> str:
    return '<h1>Bar page</h1><a href="%s">Do something and redirect</a>' % url_for(
        "do_something", next=request.full_path
    )


@app.route("/do_something")
def do_something() -> Response:
    # do something, then go back where the user came from: Kettle's redirect_back
    # (the material writes it by hand) only follows ``next`` or the referrer on this site.
    return redirect_back("hello")


# --- AJAX -------------------------------------------------------------------------


@app.route("/post")
def show_post() -> str:
    return render_template("post.html", body=generate_lorem_ipsum(n=2))


@app.route("/more")
def load_post() -> str:
    return generate_lorem_ipsum(n=1)


@app.route("/comments/<int:post_id>")
def get_comments(post_id: int) -> str:
    return render_template("_comments.html", post_id=post_id)


@app.route("/profile/<int:user_id>")
def get_profile(user_id: int) -> Response:
    return jsonify(username=f"user{user_id}", bio="Loves tea.")


@app.route("/post/delete/<int:post_id>", methods=["DELETE"])
@csrf.exempt
def delete_post(post_id: int) -> Any:
    return "", 204


# --- Uploads, XSS, SQLite --------------------------------------------------------


@app.route("/upload", methods=["GET", "POST"])
def upload() -> Any:
    saved = None
    if request.method == "POST":
        file = request.files.get("file")
        if file is None or not file.filename:
            return render_template("upload.html", error="Choose a file first."), 400
        # Never trust the client's name: store under a random one, show the original.
        stored = uuid.uuid4().hex
        folder = os.path.join(demo_folder(), "uploads")
        os.makedirs(folder, exist_ok=True)
        file.save(os.path.join(folder, stored))
        saved = {"filename": file.filename, "stored": stored}
    return render_template("upload.html", saved=saved)


@app.route("/xss")
def xss() -> str:
    return render_template("xss.html", text=request.args.get("text", ""))


def get_db() -> sqlite3.Connection:
    """Open the notes database once per request (closed in teardown_appcontext)."""
    if "db" not in g:
        g.db = sqlite3.connect(os.path.join(demo_folder(), "notes.sqlite3"))
        g.db.execute("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, body TEXT)")
    return g.db  # type: ignore[no-any-return]


@app.route("/notes", methods=["GET", "POST"])
def notes() -> Any:
    db = get_db()
    if request.method == "POST":
        body = request.form.get("body", "").strip()
        if not body:
            abort(400)
        # Parameterized: the driver quotes the value, so "'; DROP TABLE note; --" is just text.
        db.execute("INSERT INTO note (body) VALUES (?)", (body,))
        db.commit()
        return redirect(url_for("notes"))
    search = request.args.get("q", "")
    rows = db.execute(
        "SELECT id, body FROM note WHERE body LIKE ? ORDER BY id", (f"%{search}%",)
    ).fetchall()
    return render_template("notes.html", rows=rows, q=search)


@app.route("/csrf", methods=["GET", "POST"])
def csrf_form() -> str:
    # CSRFProtect has checked the token before this runs; a forged POST got 400.
    saved = request.form.get("email") if request.method == "POST" else None
    return render_template("csrf.html", saved=saved)


# --- Server push: polling, long polling, SSE, WebSocket -----------------------------


#: The channels the push examples publish on (one broker, see docs/deployment).
LONG_POLL_CHANNEL = "demo-long-poll"
CHAT_CHANNEL = "demo-chat"
WS_CHANNEL = "demo-ws-chat"


@app.route("/push")
def polling() -> str:
    return render_template("push.html")


@app.route("/poll/time")
def poll_time() -> Response:
    return jsonify(time=datetime.datetime.now().isoformat(timespec="seconds"))


@app.route("/longpoll")
async def long_poll_wait() -> Response:
    # Hold the request until a message is published, or answer 204 after the timeout.
    timeout = min(request.args.get("timeout", 20.0, type=float), 30.0)
    return await long_poll(LONG_POLL_CHANNEL, timeout=timeout)


@app.route("/longpoll/send", methods=["POST"])
async def long_poll_send() -> Any:
    message = request.form.get("message", "").strip()
    if not message:
        abort(400)
    receivers = await publish(LONG_POLL_CHANNEL, {"message": message})
    return jsonify(receivers=receivers), 201


@app.route("/chat")
def chat() -> str:
    return render_template("chat.html")


@app.route("/chat/send", methods=["POST"])
async def chat_send() -> Any:
    user = request.form.get("user", "").strip() or "anonymous"
    message = request.form.get("message", "").strip()
    if not message:
        abort(400)
    receivers = await publish(CHAT_CHANNEL, f"{user}: {message}")
    return jsonify(receivers=receivers), 201


@app.route("/chat/stream")
def chat_stream() -> Response:
    async def events() -> AsyncIterator[dict[str, str]]:
        async with subscribe(CHAT_CHANNEL) as subscription:
            # "ready" goes out once subscribed: a message sent after it is never missed.
            yield {"event": "ready", "data": "subscribed"}
            async for message in subscription:
                yield {"data": message}

    return EventStream(events())


@app.websocket("/ws/chat")
async def ws_chat_socket() -> None:
    await websocket.accept()
    async with subscribe(WS_CHANNEL) as subscription:

        async def forward() -> None:
            async for message in subscription:
                await websocket.send(message)

        forwarding = asyncio.ensure_future(forward())
        try:
            await websocket.send("ready")
            while True:
                message = await websocket.receive()
                if isinstance(message, bytes):
                    message = message.decode("utf-8", "replace")
                # Everyone in the room gets it, the sender included (as an echo).
                await publish(WS_CHANNEL, message)
        except WebSocketDisconnect:
            pass
        finally:
            forwarding.cancel()


@app.route("/ws")
def ws_chat() -> str:
    # A WSGI server (gunicorn's sync or gthread worker) cannot upgrade to WebSocket: say so.
    return render_template("ws.html", under_wsgi="wsgi.version" in request.environ)


@app.errorhandler(404)
def page_not_found(error: Any) -> Any:
    return render_template("error.html", code=404, message="Page not found"), 404


@app.errorhandler(403)
def forbidden(error: Any) -> Any:
    return render_template("error.html", code=403, message="Forbidden"), 403


@app.errorhandler(HTTPException)
def other_http_error(error: HTTPException) -> Any:
    # 400, 405, 413, 418...: the same layout, with the way back; the error's own
    # headers (a 405's Allow) are kept.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    page = render_template("error.html", code=error.code, message=error.name)
    return page, error.code, headers


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000, debug=True)
