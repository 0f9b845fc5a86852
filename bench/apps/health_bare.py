"""Baseline bench app: plain FastAPI, ``GET /healthz`` returning ``{"status": "ok"}``."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Answer the liveness probe."""
    return {"status": "ok"}
