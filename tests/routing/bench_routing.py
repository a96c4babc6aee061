"""Routing speed, kettle vs Werkzeug: ``.venv/bin/python tests/routing/bench_routing.py``.

Not collected by pytest (no timing thresholds in tests); numbers go in reports.
"""

import sys
import time
import timeit

sys.path.insert(0, "src")
import werkzeug.routing as wr

from kettle.routing import Map, Rule


def rules(cls, n):
    out = []
    for i in range(n):
        out.append(cls(f"/r{i}/<int:id>/posts/<slug>", endpoint=f"dyn{i}", methods=["GET"]))
        out.append(cls(f"/static{i}/about", endpoint=f"st{i}", methods=["GET"]))
    return out


def bench(n, number=200000):
    m = Map(rules(Rule, n))
    m.update()
    mid = n // 2
    res = {}
    for name, path in [
        ("static", f"/static{mid}/about"),
        ("dynamic", f"/r{mid}/42/posts/hello-world"),
        ("notfound", f"/r{mid}/x/nope"),
    ]:

        def f(path=path):
            try:
                m.match(path, "GET", host="example.com")
            except Exception:
                pass

        t = min(timeit.repeat(f, number=number, repeat=5)) / number * 1e9
        res[name] = t
    b = (
        min(
            timeit.repeat(
                lambda: m.build(f"dyn{mid}", {"id": 42, "slug": "hello"}),
                number=number // 2,
                repeat=5,
            )
        )
        / (number // 2)
        * 1e9
    )
    res["build"] = b
    return res


def wbench(n, number=100000):
    m = wr.Map(rules(wr.Rule, n))
    a = m.bind("example.com")
    mid = n // 2
    res = {}
    for name, path in [
        ("static", f"/static{mid}/about"),
        ("dynamic", f"/r{mid}/42/posts/hello-world"),
        ("notfound", f"/r{mid}/x/nope"),
    ]:

        def f(path=path):
            try:
                a.match(path, "GET")
            except Exception:
                pass

        res[name] = min(timeit.repeat(f, number=number, repeat=3)) / number * 1e9
    return res


for n in (10, 100, 1000):
    r = bench(n)
    print(f"kettle   {n:5d} rules(x2): " + "  ".join(f"{k} {v:7.0f} ns" for k, v in r.items()))
for n in (10, 1000):
    r = wbench(n)
    print(f"werkzeug {n:5d} rules(x2): " + "  ".join(f"{k} {v:7.0f} ns" for k, v in r.items()))


def build_time(n):
    best = 1e9
    for _ in range(7):
        t0 = time.perf_counter()
        m = Map()
        for i in range(n):
            m.add(Rule(f"/r{i}/<int:id>/posts/<slug>", endpoint=f"dyn{i}", methods=["GET"]))
        m.update()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


print(f"build 1000-rule map (add + compile): {build_time(1000):.2f} ms")
t0 = time.perf_counter()
wm = wr.Map([wr.Rule(f"/r{i}/<int:id>/posts/<slug>", endpoint=f"dyn{i}") for i in range(1000)])
wm.update()
print(f"werkzeug build 1000: {(time.perf_counter() - t0) * 1e3:.2f} ms")
