"""Structured logging on its own: request ids, the access log and redaction."""

import structlog
from fastapi import FastAPI

from fastapi_kit.logging import RequestContextMiddleware, configure_logging

configure_logging(format="json", level="INFO")

app = FastAPI()
app.add_middleware(RequestContextMiddleware)
log = structlog.get_logger("orders")


@app.post("/orders")
async def create_order() -> dict[str, str]:
    """Log an event: it carries the request id, and secrets are redacted."""
    log.info("order_created", order_id="o-1", card_token="tok_live_123")  # noqa: S106
    return {"id": "o-1"}
