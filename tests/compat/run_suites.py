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
import dataclasses
import os
import re
import subprocess
import sys
import tarfile
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


#: Every suite ``make compat`` runs. Add an extension by adding an entry (and its
#: excluded/<name>.txt if some of its tests cannot pass).
SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        # Flask's tests import _pytest.monkeypatch.notset, gone in pytest 9.
        Suite("flask", "flask==3.1.3", install=("pytest==8.3.5",)),
    )
}


def cache_dir() -> Path:
    """The download and unpack cache (outside git: listed in .gitignore)."""
    return Path(os.environ.get("KETTLE_COMPAT_CACHE", ROOT / ".compat-cache"))


def fetch(suite: Suite) -> Path:
    """Download and unpack the suite's sdist (once); return the unpacked folder."""
    cache = cache_dir()
    dist = cache / "sdist"
    name, _, version = suite.requirement.partition("==")
    dest = cache / "src" / f"{name}-{version}"
    if (dest / ".unpacked").exists():
        return dest
    dist.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(name).replace('_', '[-_.]')}-{re.escape(version)}\.tar\.gz$", re.I)
    archives = [p for p in dist.iterdir() if pattern.match(p.name)]
    if not archives:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", suite.requirement, "-d", str(dist)],
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
    """The suite's excluded tests: node id -> reason."""
    path = HERE / "excluded" / f"{suite.name}.txt"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        node, _, reason = line.partition("#")
        out[node.strip()] = reason.strip()
    return out


def run(suite: Suite, on: str) -> tuple[int, str]:
    """Run one suite; return pytest's exit status and its summary line."""
    src = fetch(suite)
    extra = install_extras(suite)
    skipped = excluded(suite)
    env = dict(os.environ)
    paths = [str(ROOT / "src")] if on == "kettle" else []
    if extra is not None:
        paths.append(str(extra))
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    env.pop("KETTLE_FLASK_COMPAT", None)
    if on == "kettle":
        env["KETTLE_FLASK_COMPAT"] = "1"
    for key, value in suite.env:
        env[key] = value.replace("{cache}", str(cache_dir()))
    args = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "--timeout", "120", suite.tests]
    for node in skipped if on == "kettle" else ():
        args += ["--deselect", node]
    args += list(suite.pytest_args)
    # Compatibility mode is turned on before pytest imports anything (as the .pth hook
    # does in an installed Kettle), so this works from a plain source checkout too.
    code = (
        "import sys, kettle.compat_switch, pytest; sys.exit(pytest.main(sys.argv[1:]))"
        if on == "kettle"
        else "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=src, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    out = proc.stdout
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    status = proc.returncode
    if on == "kettle" and skipped:
        found = re.search(r"(\d+) deselected", summary)
        if not found or int(found.group(1)) != len(skipped):
            out += f"\nexcluded list of {suite.name} is stale: {len(skipped)} listed, summary: {summary}\n"
            status = status or 1
    if status != 0:
        sys.stdout.write(out)
    return status, summary


def main(argv: list[str] | None = None) -> int:
    """Command line entry: run the named suites (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help=f"any of: {', '.join(SUITES)}")
    parser.add_argument("--on", choices=("kettle", "flask"), default="kettle")
    opts = parser.parse_args(argv)
    names = opts.suites or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    failed = []
    for name in names:
        suite = SUITES[name]
        status, summary = run(suite, opts.on)
        print(f"{name} ({suite.requirement}) on {opts.on}: {summary}", flush=True)
        if opts.on == "kettle":
            for node, reason in excluded(suite).items():
                print(f"  excluded {node}: {reason}")
        if status != 0:
            failed.append(name)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
