"""The demo app (grows into the material's HTTP examples)."""

from kettle import Kettle, request

app = Kettle(__name__)


@app.route("/")
def hello() -> str:
    name = request.args.get("name", "World")
    return f"<h1>Hello, {name}!</h1>"
