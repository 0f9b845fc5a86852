"""Structured logging: JSON or console output, request ids, access log, redaction.

Use it alone:

```python
from fastapi import FastAPI
from fastapi_kit.logging import RequestContextMiddleware, configure_logging

configure_logging(format="json", level="INFO")
app = FastAPI()
app.add_middleware(RequestContextMiddleware)
```
"""

from __future__ import annotations

from fastapi_kit.logging.config import LogFormat, configure_logging
from fastapi_kit.logging.middleware import REQUEST_ID_HEADER, RequestContextMiddleware
from fastapi_kit.logging.redaction import REDACTED, redact_sensitive

__all__ = (
    "REDACTED",
    "REQUEST_ID_HEADER",
    "LogFormat",
    "RequestContextMiddleware",
    "configure_logging",
    "redact_sensitive",
)
