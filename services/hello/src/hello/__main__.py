"""``python -m hello``: run the service (see :mod:`hello.server`)."""

from hello.server import main

raise SystemExit(main())
