"""The span exporters ``OTEL_TRACES_EXPORTER`` names, found as the SDK finds them."""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from fastapi_kit._extras import optional_extra

with optional_extra("otel"):
    from opentelemetry.sdk.trace.export import SpanExporter

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ("span_exporters_from_env",)

# The SDK's entry-point group for span exporters: ``console`` (the SDK's own),
# ``otlp_proto_http`` (the otel extra), ``otlp_proto_grpc``, ``zipkin_json``, yours.
_GROUP = "opentelemetry_traces_exporter"
# The OpenTelemetry specification makes http/protobuf the default OTLP protocol, and
# the extra ships that exporter; the Python SDK's own default is still grpc.
_OTLP_BY_PROTOCOL = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}
_DEFAULT_PROTOCOL = "http/protobuf"


def span_exporters_from_env(environ: Mapping[str, str] | None = None) -> list[SpanExporter]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (comma-separated), each made with no arguments.

    ``otlp`` (the default) is the OTLP exporter of ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL``
    or ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf`` by default, ``grpc`` if its
    package is installed); ``none`` is no exporter; any other name is looked up in the
    SDK's ``opentelemetry_traces_exporter`` entry points (``console``). The exporters
    read their own variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._HEADERS``,
    ``..._TIMEOUT``).

    Raises:
        ValueError: An unknown exporter name or OTLP protocol.
    """
    env = os.environ if environ is None else environ
    names = [name.strip().lower() for name in env.get("OTEL_TRACES_EXPORTER", "otlp").split(",")]
    wanted = dict.fromkeys(name for name in names if name and name != "none")
    return [_load(_entry_point_name(name, env)) for name in wanted]


def _entry_point_name(name: str, env: Mapping[str, str]) -> str:
    if name != "otlp":
        return name
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or _DEFAULT_PROTOCOL
    ).strip()
    try:
        return _OTLP_BY_PROTOCOL[protocol]
    except KeyError:
        msg = f"unsupported OTLP protocol {protocol!r}: use 'http/protobuf' or 'grpc'"
        raise ValueError(msg) from None


def _load(name: str) -> SpanExporter:
    found = entry_points(group=_GROUP, name=name)
    if not found:
        known = ", ".join(sorted({"otlp", "none", *entry_points(group=_GROUP).names}))
        msg = f"unknown OTEL_TRACES_EXPORTER {name!r} (installed: {known})"
        if name == "otlp_proto_grpc":
            msg += "; OTLP over gRPC needs: pip install opentelemetry-exporter-otlp-proto-grpc"
        raise ValueError(msg)
    entry_point = found[name]
    exporter_class = entry_point.load()
    if not (isinstance(exporter_class, type) and issubclass(exporter_class, SpanExporter)):
        msg = f"the {name!r} entry point is not a span exporter: {entry_point.value}"
        raise ValueError(msg)
    exporter: SpanExporter = exporter_class()
    return exporter
