"""HTTP hardening: security headers, allowed hosts, CORS, body limit, proxy headers, docs.

Each piece is a pure ASGI middleware usable on its own:

```python
from fastapi import FastAPI
from fastapi_kit.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware

app = FastAPI()
app.add_middleware(BodySizeLimitMiddleware, max_body_size=1024 * 1024)
app.add_middleware(SecurityHeadersMiddleware)
```
"""

from __future__ import annotations

from fastapi_kit.security.body_limit import (
    DEFAULT_MAX_BODY_SIZE,
    BodySizeLimitMiddleware,
    describe_body_limit,
)
from fastapi_kit.security.cors import DEFAULT_EXPOSE_HEADERS, CORSMiddleware
from fastapi_kit.security.docs_ui import DOCS_ASSETS_PACKAGE, install_offline_docs
from fastapi_kit.security.headers import DEFAULT_SECURITY_HEADERS, SecurityHeadersMiddleware
from fastapi_kit.security.hosts import AllowedHostsMiddleware
from fastapi_kit.security.proxy import ProxyHeadersMiddleware, client_ip

__all__ = (
    "DEFAULT_EXPOSE_HEADERS",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_SECURITY_HEADERS",
    "DOCS_ASSETS_PACKAGE",
    "AllowedHostsMiddleware",
    "BodySizeLimitMiddleware",
    "CORSMiddleware",
    "ProxyHeadersMiddleware",
    "SecurityHeadersMiddleware",
    "client_ip",
    "describe_body_limit",
    "install_offline_docs",
)
