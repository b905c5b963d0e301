"""Property-based: no request the OpenAPI schema allows (or nearly allows) yields a 5xx."""

from __future__ import annotations

import schemathesis
from hello.main import create_app
from hello.settings import Settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

# Schemathesis runs the app's lifespan itself, so /readyz answers 200 (ready).
app = create_app(Settings(max_body_bytes=1024))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
    case.call_and_validate(checks=[not_a_server_error])
