"""Bench app with the kit's full middleware stack; the kit serves ``GET /healthz`` itself.

With these settings every layer is active: request id and access log, security
headers, proxy headers, allowed hosts, CORS, body limit and the unhandled-error
catcher.
"""

from __future__ import annotations

from fastapi import FastAPI

from fastapi_kit import Kit, KitSettings

app = FastAPI()
Kit(
    KitSettings(
        allowed_hosts=["127.0.0.1", "localhost"],
        cors_origins=["https://app.example.com"],
        trusted_proxies=["10.0.0.0/8"],
    )
).install(app)
