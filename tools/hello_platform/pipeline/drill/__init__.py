"""Failure drills under steady, bounded load on 127.0.0.1.

Each drill runs :class:`Load` (a fixed request rate on keep-alive connections, capped in
time and count, loopback only) against a service's release ``<release>-drill``
(2 replicas, no HPA, NodePort 30083) while it disrupts something, then prints one line and adds a
:class:`Summary` to ``out/drill/<run>/summary.json`` (``out/drill/latest`` names the run):

* ``pod-delete``: ``kubectl delete pod`` of a serving pod: no request may fail;
* ``rolling-update``: a config change replaces every pod: no request may fail;
* ``failed-release``: an upgrade whose pods never become Ready (``faults.unready``) is
  rolled back while the old pods serve: no request may fail;
* ``kill-kubelet`` / ``kill-containerd``: SIGKILL the daemon by its pidfile, keep the load
  on while it is dead (the pods should keep serving), then ``cluster up`` repairs it: the
  failed requests and the time until the node and the release are Ready again;
* ``cluster-restart``: ``cluster down`` + ``cluster up`` (data kept): the release must come
  back Ready; the longest unavailable stretch is reported.

A failed request is anything but HTTP 200: an error status, a timeout, a refused or reset
connection. Requests are never retried. The CLI (``hello-platform drill``) is cli.py.
"""

from hello_platform.pipeline.drill.drills import NAMES, Report, run, run_drill
from hello_platform.pipeline.drill.release import Env, setup

__all__ = ["NAMES", "Env", "Report", "run", "run_drill", "setup"]
