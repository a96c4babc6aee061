"""Run third-party test suites (Flask's, extensions') in Kettle's Flask compatibility mode.

Each suite is one entry of :data:`SUITES`: a pinned source distribution,
downloaded at run time (``pip download --no-binary :all:``) into a cache
(``.compat-cache/`` at the repository root, or ``$KETTLE_COMPAT_CACHE``),
unpacked, and its tests run by pytest with ``KETTLE_FLASK_COMPAT=1``.
Nothing of theirs is committed here.

Tests that cannot pass are listed, each with its reason, in
``tests/compat/excluded/<suite>.txt`` (``node id  # reason`` per line); the
runner deselects exactly those, fails if one of them no longer exists (a
stale list), and prints them, so nothing is skipped silently.

Usage::

    python tests/compat/run_suites.py                # every suite, on Kettle
    python tests/compat/run_suites.py flask          # one suite
    python tests/compat/run_suites.py flask --on flask   # the same tests on real Flask

Exit status is 0 only when every selected suite passes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import os
import re
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Suite:
    """One third-party test suite: where it comes from and how to run it."""

    name: str  # the key on the command line and of excluded/<name>.txt
    requirement: str  # pinned sdist, e.g. "flask==3.1.3"
    tests: str = "tests"  # test folder inside the unpacked sdist
    #: extra packages the suite needs, installed with ``pip install --target`` into the cache
    #: (pinned; their own dependencies are installed too unless listed in ``no_deps``)
    install: tuple[str, ...] = ()
    no_deps: bool = False  # install ``install`` with --no-deps
    pytest_args: tuple[str, ...] = ()  # extra pytest arguments
    #: extra environment for the run (``{cache}`` is replaced by the cache directory)
    env: tuple[tuple[str, str], ...] = ()
    #: our own tests instead of a download: a folder of this repository (for extensions
    #: whose sdist ships no tests, and the example app); ``requirement`` names what they test
    local: str = ""
    #: a project inside the sdist (Flask's example apps): its folder is where pytest runs,
    #: with that project's own configuration, and ``tests`` is inside it
    root: str = ""
    #: for a ``<name>-asgi`` suite: the suite it runs again under ASGI (whose excluded
    #: tests it excludes too, besides those of its own list)
    asgi_of: str = ""


#: What every extension suite installs beside the extension: the Flask its dependants
#: pin against and a pytest that still collects nose-style yield tests as xfail.
_BASE = ("flask==3.1.3", "pytest==8.3.5", "pytest-timeout==2.4.0")
#: Flask-SQLAlchemy 3.1.1 predates SQLAlchemy 2.0.32+ (two of its dataclass tests fail there, on Flask too).
_SQLA = "SQLAlchemy==2.0.31"

#: Every suite ``make compat`` runs. Add an extension by adding an entry (and its
#: excluded/<name>.txt if some of its tests cannot pass).
SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        # Flask's tests import _pytest.monkeypatch.notset, gone in pytest 9.
        Suite("flask", "flask==3.1.3", install=("pytest==8.3.5",)),
        # Real applications: the example apps Flask's sdist ships with their own tests,
        # the tutorial's blog (flaskr: blueprints, sessions, SQLite, the CLI's init-db)
        # and the JavaScript example (fetch, XMLHttpRequest and jQuery posting forms and JSON).
        Suite(
            "flask-tutorial", "flask==3.1.3", root="examples/tutorial", install=("pytest==8.3.5",)
        ),
        Suite(
            "flask-javascript-example",
            "flask==3.1.3",
            root="examples/javascript",
            install=("pytest==8.3.5",),
        ),
        # The extensions of issue 17, each at its latest release. Their own dependencies
        # come in with them; Flask stays at 3.1.3 (real Flask beside Kettle is the normal
        # case: it is what the extensions depend on).
        Suite(
            "flask-login",
            "Flask-Login==0.6.3",
            install=(*_BASE, "Flask-Login==0.6.3", "semantic-version==2.10.0"),
        ),
        Suite(
            "flask-sqlalchemy",
            "Flask-SQLAlchemy==3.1.1",
            install=(*_BASE, "Flask-SQLAlchemy==3.1.1", _SQLA),
        ),
        Suite(
            "flask-wtf",
            "Flask-WTF==1.3.0",
            install=(
                *_BASE,
                "Flask-WTF==1.3.0",
                "WTForms==3.2.1",
                "Flask-Babel==4.0.0",
                "Flask-Reuploaded==1.6.0",
            ),
        ),
        Suite(
            "flask-migrate",
            "Flask-Migrate==4.1.0",
            install=(
                *_BASE,
                "Flask-Migrate==4.1.0",
                "Flask-SQLAlchemy==3.1.1",
                _SQLA,
                "alembic==1.20.1",
            ),
        ),
        Suite(
            "flask-restful",
            "Flask-RESTful==0.3.10",
            # its tests import nose (pynose is the maintained fork that installs on 3.11);
            # tests/test_api.py imports flask.signals.signals_available (gone since Flask
            # 2.3), so it cannot be collected on Flask 3.1.3 either.
            install=(*_BASE, "Flask-RESTful==0.3.10", "pynose==1.5.5", "mock==5.2.0"),
            pytest_args=("--ignore=tests/test_api.py",),
        ),
        Suite("flask-moment", "Flask-Moment==1.0.6", install=(*_BASE, "Flask-Moment==1.0.6")),
        Suite(
            "flask-marshmallow",
            "flask-marshmallow==1.5.0",
            install=(
                *_BASE,
                "flask-marshmallow==1.5.0",
                "marshmallow==4.4.0",
                "Flask-SQLAlchemy==3.1.1",
                _SQLA,
                "marshmallow-sqlalchemy==1.6.0",
            ),
        ),
        # Widely used extensions beyond the material's, each at its latest release.
        Suite(
            "flask-httpauth",
            "Flask-HTTPAuth==4.8.1",
            install=(*_BASE, "Flask-HTTPAuth==4.8.1"),
        ),
        Suite("flask-cors", "flask-cors==6.0.5", install=(*_BASE, "flask-cors==6.0.5")),
        Suite(
            "flask-jwt-extended",
            "flask-jwt-extended==4.7.4",
            install=(*_BASE, "flask-jwt-extended[asymmetric_crypto]==4.7.4", "PyJWT==2.11.0"),
        ),
        Suite(
            "flask-compress",
            "Flask-Compress==1.25",
            install=(*_BASE, "Flask-Compress==1.25", "Flask-Caching==2.5.1"),
        ),
        Suite(
            "apiflask",
            "apiflask==3.1.2",
            install=(
                *_BASE,
                "apiflask==3.1.2",
                "openapi-spec-validator==0.7.2",
                "PyYAML==6.0.2",
                "asgiref==3.8.1",
                "requests==2.32.3",
            ),
        ),
        Suite(
            "flask-whooshee",
            "flask-whooshee==0.9.1",
            tests="test.py",
            install=(
                *_BASE,
                "flask-whooshee==0.9.1",
                "Whoosh==2.7.4",
                "flexmock==0.12.2",
                "Flask-SQLAlchemy==3.1.1",
                _SQLA,
            ),
        ),
        Suite(
            "flask-openapi3",
            "flask-openapi3==4.3.2",
            install=(
                *_BASE,
                "flask-openapi3[yaml,async,email]==4.3.2",
                "PyYAML==6.0.2",
                "asgiref==3.8.1",
            ),
        ),
        Suite(
            "flask-socketio",
            "Flask-SocketIO==5.7.0",
            tests="test_socketio.py",
            install=(*_BASE, "Flask-SocketIO==5.7.0", "redis==5.2.1"),
        ),
        Suite(
            "flask-limiter",
            "Flask-Limiter==4.1.1",
            install=(
                *_BASE,
                "Flask-Limiter[cli]==4.1.1",
                "flask-restful==0.3.10",
                "flask-restx==1.3.2",
                "asgiref==3.8.1",
                "redis==5.2.1",
                "pymemcache==4.0.0",
                "pymongo==4.10.1",
                "hiro==1.1.1",
                "pytest-mock==3.14.0",
            ),
        ),
        Suite(
            "flask-reuploaded",
            "Flask-Reuploaded==1.6.0",
            install=(*_BASE, "Flask-Reuploaded==1.6.0"),
        ),
        Suite(
            "flask-sitemap",
            "Flask-Sitemap==0.4.0",
            install=(*_BASE, "Flask-Sitemap==0.4.0"),
        ),
        Suite(
            "flask-sse",
            "Flask-SSE==1.0.0",
            # Its conftest uses pytest.yield_fixture, gone in pytest 8.
            install=(
                "flask==3.1.3",
                "pytest==7.4.4",
                "pytest-timeout==2.4.0",
                "Flask-SSE==1.0.0",
                "pytest-mock==3.14.0",
                "redis==5.2.1",
                "six==1.17.0",
            ),
        ),
        Suite(
            "flask-smorest",
            "flask-smorest==0.47.0",
            install=(
                *_BASE,
                "flask-smorest==0.47.0",
                "marshmallow==4.4.0",
                "webargs==8.7.1",
                "apispec==6.10.0",
                "PyYAML==6.0.2",
                "packaging==24.2",
                "asgiref==3.8.1",
            ),
        ),
        Suite(
            "flask-dance",
            "Flask-Dance==7.1.0",
            install=(
                *_BASE,
                "Flask-Dance[sqla]==7.1.0",
                "pytest-mock==3.14.0",
                "responses==0.25.3",
                "freezegun==1.5.1",
                "Flask-SQLAlchemy==3.1.1",
                _SQLA,
                "Flask-Login==0.6.3",
                "Flask-Caching==2.5.1",
                "betamax==0.9.0",
                "oauthlib[signedtoken]==3.2.2",
            ),
        ),
        # Flask-Session, Flask-Mail, Flask-Babel and Bootstrap-Flask ship no tests in their
        # sdists: our own tests of their documented features, written against `import
        # flask` (so they run on real Flask too), and the examples/extensions app's tests.
        Suite(
            "own-extension-tests",
            "Flask-Session==0.8.0 Flask-Mail==0.10.0 Flask-Babel==4.0.0 Bootstrap-Flask==2.6.0",
            local="tests/compat/ext",
            tests=".",
            install=(
                *_BASE,
                "Flask-Session[redis,cachelib]==0.8.0",
                "Flask-Mail==0.10.0",
                "Flask-Babel==4.0.0",
                "Bootstrap-Flask==2.6.0",
                "Flask-WTF==1.3.0",
                "WTForms==3.2.1",
                "Flask-Login==0.6.3",
                "Flask-SQLAlchemy==3.1.1",
                _SQLA,
                "Flask-Migrate==4.1.0",
                "alembic==1.20.1",
            ),
        ),
        Suite(
            "flask-admin",
            "Flask-Admin==2.2.1",
            tests="flask_admin/tests",
            install=(
                *_BASE,
                "Flask-Admin[sqlalchemy,sqlalchemy-with-utils,peewee,images,export,rediscli,translation,s3,azure-blob-storage]==2.2.1",
                "Flask-SQLAlchemy==3.1.1",
                "Flask-SQLAlchemy-Lite==0.2.1",
                _SQLA,
                "WTForms==3.2.1",
                "peewee==3.19.0",
                "beautifulsoup4==4.15.0",
                "moto==5.2.5",
            ),
            # These need servers the suite expects on fixed addresses (PostgreSQL with
            # PostGIS, MongoDB, Azurite); they fail on Flask too without them.
            pytest_args=(
                "--ignore=flask_admin/tests/sqla/test_postgres.py",
                "--ignore=flask_admin/tests/geoa",
                "--ignore=flask_admin/tests/mongoengine",
                "--ignore=flask_admin/tests/pymongo",
                "--ignore=flask_admin/tests/fileadmin/test_fileadmin_azure.py",
            ),
        ),
    )
}


#: Suites run a second time on Kettle with every test client driving ``app.asgi``
#: (``asgi_clients.py``), as ``<name>-asgi``: the same app object serves both protocols.
#: Not those that send no request through Kettle's test client (Flask-Migrate,
#: Flask-Whooshee, Flask-SocketIO, Flask-Moment, Flask-SQLAlchemy, flask-marshmallow): with
#: no request through ``app.asgi`` such a run proves nothing, and ``asgi_clients`` fails it.
ASGI_SUITES = (
    "flask-tutorial",
    "flask-javascript-example",
    "flask-login",
    "flask-wtf",
    "flask-restful",
    "flask-admin",
    "flask",
    "flask-httpauth",
    "flask-cors",
    "flask-jwt-extended",
    "flask-compress",
    "flask-smorest",
    "flask-dance",
    "apiflask",
    "flask-openapi3",
    "flask-limiter",
    "flask-reuploaded",
    "flask-sitemap",
    "flask-sse",
)
SUITES |= {
    f"{name}-asgi": dataclasses.replace(
        SUITES[name],
        name=f"{name}-asgi",
        pytest_args=(*SUITES[name].pytest_args, "-p", "asgi_clients"),
        asgi_of=name,
    )
    for name in ASGI_SUITES
}


def cache_dir() -> Path:
    """The download and unpack cache (outside git: listed in .gitignore)."""
    return Path(os.environ.get("KETTLE_COMPAT_CACHE", ROOT / ".compat-cache"))


#: Suites run in parallel threads, and several unpack the same sdist (Flask's tests and
#: its example apps): one at a time, so none reads a file another is still writing.
_FETCHING = threading.Lock()


def fetch(suite: Suite) -> Path:
    """Download and unpack the suite's sdist (once); return the unpacked folder."""
    if suite.local:
        return ROOT / suite.local
    with _FETCHING:
        return _fetch(suite)


def _fetch(suite: Suite) -> Path:
    cache = cache_dir()
    dist = cache / "sdist"
    name, _, version = suite.requirement.partition("==")
    dest = cache / "src" / f"{name}-{version}"
    if (dest / ".unpacked").exists():
        return dest
    dist.mkdir(parents=True, exist_ok=True)
    # sdist names are normalised differently by each build backend (Flask-SQLAlchemy ->
    # flask_sqlalchemy): any of - _ . matches any other.
    stem = "[-_.]".join(re.escape(part) for part in re.split(r"[-_.]", name))
    pattern = re.compile(rf"^{stem}-{re.escape(version)}\.tar\.gz$", re.I)
    archives = [p for p in dist.iterdir() if pattern.match(p.name)]
    if not archives:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                suite.requirement,
                "-d",
                str(dist),
            ],
            check=True,
        )
        archives = [p for p in dist.iterdir() if pattern.match(p.name)]
    with tarfile.open(archives[0]) as tar:
        top = tar.getnames()[0].split("/")[0]
        tar.extractall(dest.parent, filter="data")
    (dest.parent / top).rename(dest) if top != dest.name else None
    (dest / ".unpacked").touch()
    return dest


def install_extras(suite: Suite) -> Path | None:
    """Install the suite's extra packages into a folder of the cache; return it."""
    if not suite.install:
        return None
    target = cache_dir() / "site" / suite.name
    stamp = target / ".installed"
    wanted = "\n".join(suite.install)
    if stamp.exists() and stamp.read_text() == wanted:
        return target
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), "--upgrade"]
    if suite.no_deps:
        cmd.append("--no-deps")
    subprocess.run([*cmd, *suite.install], check=True)
    stamp.write_text(wanted)
    return target


def excluded(suite: Suite) -> dict[str, str]:
    """The suite's excluded tests: node id -> reason (an ASGI run's: its base's too)."""
    out = excluded(SUITES[suite.asgi_of]) if suite.asgi_of else {}
    path = HERE / "excluded" / f"{suite.name}.txt"
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        node, _, reason = line.partition("#")
        out[node.strip()] = reason.strip()
    return out


def pytest_config(src: Path) -> list[str]:
    """Arguments that make pytest use the sdist's own configuration, never ours.

    Without them a suite whose sdist has no pytest configuration (Flask-RESTful) would
    pick up this repository's pyproject.toml from a parent folder.
    """
    candidates = (
        ("pytest.ini", ""),
        ("pyproject.toml", "[tool.pytest.ini_options]"),
        ("tox.ini", "[pytest]"),
        ("setup.cfg", "[tool:pytest]"),
    )
    for filename, section in candidates:
        path = src / filename
        if path.exists() and section in path.read_text(errors="replace"):
            return ["--rootdir", str(src), "-c", str(path)]
    empty = src / ".kettle-empty-pytest.ini"
    empty.write_text("[pytest]\n")
    return ["--rootdir", str(src), "-c", str(empty)]


def flask_command(on: str) -> Path:
    """A folder holding a ``flask`` command for this interpreter, in the mode of ``on``.

    Suites that run ``flask ...`` in a subprocess (Flask-Migrate) get this one first on
    PATH: on Kettle it is what the ``flask`` script of an installed Flask does when the
    mode is switched on by ``KETTLE_FLASK_COMPAT=1`` (the .pth hook, absent from a
    source checkout), so the command line goes through Kettle's CLI.
    """
    folder = cache_dir() / f"bin-{on}"
    folder.mkdir(parents=True, exist_ok=True)
    switch = "import kettle.compat_switch\n" if on == "kettle" else ""
    script = folder / "flask"
    # Suites run in parallel threads: write beside, then replace (never a half-written script).
    partial = folder / f".flask-{threading.get_ident()}"
    partial.write_text(
        f"#!{sys.executable}\n{switch}import sys\nfrom flask.cli import main\nsys.exit(main())\n"
    )
    partial.chmod(0o755)
    os.replace(partial, script)
    return folder


def run(suite: Suite, on: str) -> tuple[int, str]:
    """Run one suite; return pytest's exit status and its summary line."""
    src = fetch(suite) / suite.root
    extra = install_extras(suite)
    skipped = excluded(suite)
    env = dict(os.environ)
    paths = [str(ROOT / "src")] if on == "kettle" else []
    if suite.local:
        paths.append(str(ROOT / "tests"))  # our own tests share tests/redis_server.py
    if "asgi_clients" in suite.pytest_args:
        paths.append(str(HERE))
    if extra is not None:
        paths.append(str(extra))
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    env["PATH"] = os.pathsep.join([str(flask_command(on)), env.get("PATH", "")])
    env.pop("KETTLE_FLASK_COMPAT", None)
    if on == "kettle":
        env["KETTLE_FLASK_COMPAT"] = "1"
    for key, value in suite.env:
        env[key] = value.replace("{cache}", str(cache_dir()))
    args = [
        "-q",
        "-p",
        "no:cacheprovider",
        *pytest_config(src),
        "-o",
        "addopts=",
        "--timeout",
        "120",
        suite.tests,
    ]
    if on == "kettle" and skipped:
        listing = cache_dir() / f"excluded-{suite.name}.txt"
        listing.write_text("\n".join(skipped) + "\n")
        env["KETTLE_COMPAT_EXCLUDED"] = str(listing)
        unmatched_file = cache_dir() / f"unmatched-{suite.name}.txt"
        unmatched_file.unlink(missing_ok=True)
        env["KETTLE_COMPAT_UNMATCHED"] = str(unmatched_file)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env["PYTHONPATH"]])
        args += ["-p", "exact_deselect"]
    args += list(suite.pytest_args)
    # Compatibility mode is turned on before pytest imports anything (as the .pth hook
    # does in an installed Kettle), so this works from a plain source checkout too.
    code = (
        "import sys, kettle.compat_switch, pytest; sys.exit(pytest.main(sys.argv[1:]))"
        if on == "kettle"
        else "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=src,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out = proc.stdout
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    status = proc.returncode
    if on == "kettle" and skipped:
        unmatched_file = cache_dir() / f"unmatched-{suite.name}.txt"
        unmatched = (
            unmatched_file.read_text().splitlines() if unmatched_file.exists() else list(skipped)
        )
        if unmatched:
            out += f"\nexcluded list of {suite.name} is stale: no test matches {unmatched}\n"
            status = status or 1
    if status != 0:
        sys.stdout.write(out)
    return status, summary


def _count(summary: str, word: str) -> int:
    found = re.search(rf"(\d+) {word}", summary)
    return int(found.group(1)) if found else 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry: run the named suites (all by default), two at a time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help=f"any of: {', '.join(SUITES)}")
    parser.add_argument("--on", choices=("kettle", "flask"), default="kettle")
    parser.add_argument("--jobs", type=int, default=2, help="suites run at the same time")
    opts = parser.parse_args(argv)
    names = opts.suites or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    failed = []
    totals = dict.fromkeys(("passed", "failed", "error", "deselected"), 0)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        futures = {pool.submit(run, SUITES[name], opts.on): name for name in names}
        for future in concurrent.futures.as_completed(futures):
            name = futures[future]
            suite = SUITES[name]
            status, summary = future.result()
            print(f"{name} ({suite.requirement}) on {opts.on}: {summary}", flush=True)
            if opts.on == "kettle":
                for node, reason in excluded(suite).items():
                    print(f"  excluded {node}: {reason}")
            for word in totals:
                totals[word] += _count(summary, word)
            if status != 0:
                failed.append(name)
    if failed:
        print(f"FAILED: {', '.join(sorted(failed))}")
    print(f"compat: {totals['deselected']} excluded (listed above with their reasons)")
    print(
        f"compat: {totals['passed']} passed, {totals['failed'] + totals['error']} failed",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
