"""tests/compat/ext runs in the suite runner (``make compat``), not in the dev venv.

Its tests import Flask extensions that only the runner installs; the main
``pytest`` run leaves the folder to it.
"""

collect_ignore = ["ext"]
