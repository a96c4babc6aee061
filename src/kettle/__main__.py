"""``python -m kettle``: the ``kettle`` command, as ``python -m flask`` is Flask's."""

from kettle.cli import main

main()
