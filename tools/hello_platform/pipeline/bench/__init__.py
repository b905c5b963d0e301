"""``hello-platform bench``: what the service's stack costs, measured in two pairs side by side.

* ``static``: ``GET /`` of the service (a static route: its response, rendered once by
  FastAPI, is served by the middleware) against a raw ASGI app. Goal: >= 0.70x.
* ``route``: ``GET /version`` of the service (an ordinary FastAPI route, through all of
  the service's middleware) against the same route on the same FastAPI app without the
  middleware. Goal: >= 0.90x.

The service is ``--service``'s (its catalogue entry's ``app``); the baselines live in its
folder's ``bench/baselines.py``, outside its package.
All three servers run under the very same uvicorn command line (one worker, httptools,
uvloop, no access log) pinned to one core with ``taskset``; wrk, pinned to the other core,
loads them against 127.0.0.1 only, for a bounded time: a warm-up, then ``--rounds``
rounds of ``--duration`` seconds per pair, in which the two sides of the pair are loaded
side by side (two wrk at once, the two servers sharing their core).

So whatever else the machine does (other builds sharing the cores) weighs on both sides
alike. Each run also reads the server's CPU time from ``/proc``: requests per CPU-second
is what a server does with one core, and the ratio of a pair by it is what the goal is
checked on (the median of the rounds' ratios); the rps ratio is shown too. A JSON report
goes to ``out/bench/``; the run fails when a pair misses its goal, unless ``--no-assert``.

The API (``cli.py`` holds the flags)::

    from hello_platform.pipeline import bench
    outcomes = bench.bench(catalogue.service(), bench.Settings(rounds=3, no_assert=True))
"""

from hello_platform.pipeline.bench.flow import Settings, bench

__all__ = ["Settings", "bench"]
