"""Instructions each request runs in their generic form: CPython 3.11's failed specializations.

    python benchmarks/specializations.py SCENARIO FRAMEWORK [WARM-UP REQUESTS]

CPython 3.11 rewrites an attribute read, a subscript, a comparison or a call
into a form specialized for what it met (an instance attribute, a module
global, a dict, an int), an "inline cache" a few instructions long. What it
cannot specialize stays generic: on 3.11 that is a class attribute or a
property read through an instance, any attribute read on a class, a method
called on a name bound by an import (compiled as an attribute read: the
compiler takes the name for a module), a subscript of a dict subclass, a
comparison of tuples or of ints past 2**30. Each costs a generic lookup
(a type lookup, a dict probe, often a new bound method): some 200-300
machine instructions more than its specialized form.

The script warms the app up, snapshots the adaptive bytecode of every
Kettle function, runs 200 more requests and lists each instruction still in
its ``*_ADAPTIVE`` form whose inline counter moved in between: run on every
request, and generic. Deterministic; CPython 3.11 only (3.12 renamed and
widened the specializations).
"""

from __future__ import annotations

import dis
import gc
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run

#: ``CALL_ADAPTIVE`` after a specialized ``PRECALL`` is never specialized itself.
_NOT_COUNTED = frozenset({"CALL_ADAPTIVE"})


def kettle_code() -> list[types.CodeType]:
    """The code of every Kettle function alive now."""
    found: dict[types.CodeType, None] = {}
    for obj in gc.get_objects():
        if (
            isinstance(obj, types.FunctionType)
            and f"{os.sep}kettle{os.sep}" in obj.__code__.co_filename
        ):
            found[obj.__code__] = None
    return list(found)


def generic(code: types.CodeType, before: bytes) -> list[str]:
    """The generic instructions of ``code`` that ran since its bytecode was ``before``."""
    after: bytes = code._co_code_adaptive  # type: ignore[attr-defined]
    rows = []
    for ins in dis.get_instructions(code, adaptive=True):
        if not ins.opname.endswith("_ADAPTIVE") or ins.opname in _NOT_COUNTED:
            continue
        counter = slice(ins.offset + 2, ins.offset + 4)  # the first inline cache entry
        if after[counter] != before[counter]:
            line = ins.positions.lineno if ins.positions else None
            rows.append(
                f"    line {line}: {ins.opname.removesuffix('_ADAPTIVE'):<14} {ins.argrepr}"
            )
    return rows


def main() -> None:
    """Warm up, run, and print the generic instructions per function."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(
            "specializations.py reads CPython 3.11's adaptive bytecode; this is another Python"
        )
    scenario, framework = sys.argv[1], sys.argv[2]
    warm = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    runner = run.warm_runner(scenario, framework, warm)
    codes = kettle_code()
    before = {code: code._co_code_adaptive for code in codes}  # type: ignore[attr-defined]
    for _ in range(200):
        runner.call_once()
    total = 0
    for code in codes:
        rows = generic(code, before[code])
        if rows:
            total += len(rows)
            print(f"{os.path.relpath(code.co_filename)}:{code.co_firstlineno} {code.co_name}")
            print("\n".join(rows))
    print(f"generic instructions run per request: {total}")


if __name__ == "__main__":
    main()
