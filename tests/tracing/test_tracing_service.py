from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from fastapi_kit.tracing import Tracing, add_trace_ids, span_exporters_from_env, tracing_requested
from helpers import LogCapture


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_requested_by_an_exporter_or_an_endpoint(
    environ: dict[str, str], requested: bool
) -> None:
    assert tracing_requested(environ) is requested


def test_tracing_requested_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert tracing_requested()


@pytest.mark.parametrize(
    ("environ", "kinds"),
    [
        ({}, [OTLPSpanExporter]),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, [OTLPSpanExporter]),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            [OTLPSpanExporter],
        ),
        ({"OTEL_TRACES_EXPORTER": "console"}, [ConsoleSpanExporter]),
        (
            {"OTEL_TRACES_EXPORTER": " Console , otlp,console"},
            [ConsoleSpanExporter, OTLPSpanExporter],
        ),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp_proto_http"}, [OTLPSpanExporter]),
    ],
)
def test_exporters_are_the_ones_otel_traces_exporter_names(
    environ: dict[str, str], kinds: list[type]
) -> None:
    assert [type(e) for e in span_exporters_from_env(environ)] == kinds


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "unknown OTEL_TRACES_EXPORTER 'jaeger'"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "opentelemetry-exporter-otlp-proto-grpc"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "unsupported OTLP protocol 'http/json'"),
    ],
)
def test_an_exporter_that_cannot_be_made_is_a_value_error(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        span_exporters_from_env(environ)


def test_an_entry_point_that_is_no_span_exporter_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib.metadata import EntryPoint, EntryPoints

    import fastapi_kit.tracing.exporters as exporters

    fake = EntryPoints([EntryPoint("odd", "builtins:dict", "opentelemetry_traces_exporter")])
    monkeypatch.setattr(exporters, "entry_points", lambda **_: fake)
    with pytest.raises(ValueError, match="not a span exporter: builtins:dict"):
        span_exporters_from_env({"OTEL_TRACES_EXPORTER": "odd"})


def test_the_provider_comes_from_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "todo-api")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    tracing = Tracing()
    try:
        provider = tracing.tracer_provider
        attributes = provider.resource.attributes
        assert attributes["service.name"] == "todo-api"
        assert attributes["deployment.environment.name"] == "test"
        assert "0.25" in provider.sampler.get_description()
        processors = provider._active_span_processor._span_processors
        assert [type(p).__name__ for p in processors] == ["BatchSpanProcessor"]
    finally:
        tracing.shutdown()


async def test_the_lifespan_exports_what_is_pending_and_shuts_its_provider_down() -> None:
    exporter = InMemorySpanExporter()
    tracing = Tracing(span_exporter=exporter)
    async with tracing.lifespan(FastAPI()):
        with tracing.tracer.start_as_current_span("work"):
            pass
    assert [s.name for s in exporter.get_finished_spans()] == ["work"]
    with tracing.tracer.start_as_current_span("after"):
        pass  # the provider is shut down: nothing more is exported
    assert len(exporter.get_finished_spans()) == 1


async def test_a_provider_of_your_own_is_flushed_not_shut_down() -> None:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing = Tracing(tracer_provider=provider)
    async with tracing.lifespan(FastAPI()):
        with tracing.tracer.start_as_current_span("work"):
            pass
    assert [s.name for s in exporter.get_finished_spans()] == ["work"]
    with provider.get_tracer("t").start_as_current_span("still"):
        pass
    provider.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["work", "still"]
    provider.shutdown()


def test_a_provider_and_an_exporter_are_exclusive() -> None:
    with pytest.raises(ValueError, match="not both"):
        Tracing(tracer_provider=TracerProvider(), span_exporter=InMemorySpanExporter())


def test_the_global_tracer_provider_is_left_alone() -> None:
    from opentelemetry import trace

    before = trace.get_tracer_provider()
    Tracing(span_exporter=InMemorySpanExporter()).shutdown()
    assert trace.get_tracer_provider() is before


def test_a_synchronous_engine_is_traced_too(tracing: Tracing, spans: InMemorySpanExporter) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine("sqlite://")
    tracing.instrument_sqlalchemy(engine)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # outside any span: not traced
        with tracing.tracer.start_as_current_span("job"):
            connection.execute(text("SELECT :n"), {"n": 2})
    engine.dispose()
    [statement, job] = spans.get_finished_spans()
    assert (statement.name, job.name) == ("SELECT", "job")
    assert statement.parent is not None
    assert statement.parent.span_id == job.context.span_id
    assert statement.attributes == {
        "db.system.name": "sqlite",
        "db.operation.name": "SELECT",
        "db.query.text": "SELECT ?",
    }


def test_a_failing_statement_records_its_error(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine("sqlite://")
    tracing.instrument_sqlalchemy(engine)
    with (
        engine.connect() as connection,
        tracing.tracer.start_as_current_span("job"),
        pytest.raises(OperationalError),
    ):
        connection.execute(text("SELECT * FROM missing"))
    engine.dispose()
    [statement, _] = spans.get_finished_spans()
    assert statement.status.status_code is StatusCode.ERROR
    assert (statement.attributes or {})["error.type"] == "OperationalError"
    assert [e.name for e in statement.events] == ["exception"]


@pytest.mark.postgres
async def test_postgres_statements_name_their_database_and_server(
    tracing: Tracing, spans: InMemorySpanExporter, postgres_url: str
) -> None:
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(postgres_url)
    tracing.instrument_sqlalchemy(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE todos (id int, done bool)"))
        with tracing.tracer.start_as_current_span("request"):
            await connection.execute(
                text("  update todos set done = :done where id = :id"), {"done": True, "id": 1}
            )
    await engine.dispose()
    [statement, _request] = spans.get_finished_spans()
    url = make_url(postgres_url)
    assert statement.name == f"UPDATE {url.database}"
    assert statement.attributes == {
        "db.system.name": "postgresql",
        "db.namespace": url.database,
        "server.address": url.host,
        "server.port": url.port,
        "db.operation.name": "UPDATE",
        "db.query.text": "  update todos set done = $1 where id = $2",
    }


def test_many_rows_and_statements_without_parameters_are_traced_too(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, text
    from sqlalchemy.exc import IntegrityError

    engine = create_engine("sqlite://")
    tracing.instrument_sqlalchemy(engine)
    todos = Table("todos", MetaData(), Column("id", Integer, primary_key=True))
    with engine.begin() as connection, tracing.tracer.start_as_current_span("job"):
        connection.execution_options(no_parameters=True).exec_driver_sql(
            "CREATE TABLE todos (id INTEGER PRIMARY KEY)"  # cursor.execute(statement) alone
        )
        connection.execute(text("INSERT INTO todos VALUES (:id)"), [{"id": 1}, {"id": 2}])
        # insertmanyvalues: one statement for the batch, ids returned.
        returned = connection.execute(
            todos.insert().returning(todos.c.id), [{"id": 3}, {"id": 4}, {"id": 5}]
        ).scalars()
        assert sorted(returned) == [3, 4, 5]
        with pytest.raises(IntegrityError):  # wrapped by SQLAlchemy as without tracing
            connection.execute(todos.insert(), {"id": 1})
        count = connection.execute(text("SELECT count(*) FROM todos")).scalar_one()
    engine.dispose()
    assert count == 5  # each statement ran once, by the span or by SQLAlchemy
    names = [span.name for span in spans.get_finished_spans()]
    assert names == ["CREATE", "INSERT", "INSERT", "INSERT", "SELECT", "job"]
    failed = spans.get_finished_spans()[3]
    assert failed.status.status_code is StatusCode.ERROR


def test_a_do_execute_listener_of_your_own_still_runs_inside_a_span(
    tracing: Tracing, spans: InMemorySpanExporter
) -> None:
    from sqlalchemy import create_engine, event, text

    engine = create_engine("sqlite://")
    tracing.instrument_sqlalchemy(engine)
    tracing.instrument_sqlalchemy(engine.execution_options(isolation_level="AUTOCOMMIT"))
    seen: list[str] = []

    def own(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        seen.append(statement)
        cursor.execute(statement, parameters)
        return True  # it ran the statement: nobody else may

    event.listen(engine, "do_execute", own)
    with engine.connect() as connection, tracing.tracer.start_as_current_span("job"):
        assert connection.execute(text("SELECT :n"), {"n": 7}).scalar_one() == 7
    engine.dispose()
    assert seen == ["SELECT ?"]
    assert [span.name for span in spans.get_finished_spans()] == ["SELECT", "job"]  # once


def test_an_exception_logged_inside_a_span_is_recorded_on_it(
    tracing: Tracing, spans: InMemorySpanExporter, traced_logs: LogCapture
) -> None:
    log = structlog.get_logger("tests")
    with tracing.tracer.start_as_current_span("work"):
        try:
            raise KeyError("gone")
        except KeyError as exc:
            log.exception("failed")  # exc_info=True
            log.error("failed_again", exc_info=exc)
            log.error("failed_thrice", exc_info=(type(exc), exc, exc.__traceback__))
        log.error("no_exception", exc_info=False)
    [span] = spans.get_finished_spans()
    assert [e.name for e in span.events] == ["exception"] * 3
    assert {line["trace_id"] for line in traced_logs.events} == {
        format(span.context.trace_id, "032x")
    }


def test_a_span_that_is_not_sampled_still_gives_its_ids_but_records_nothing() -> None:
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    tracing = Tracing(tracer_provider=TracerProvider(sampler=ALWAYS_OFF))
    with tracing.tracer.start_as_current_span("dropped") as span:
        event: dict[str, Any] = add_trace_ids(None, "error", {"exc_info": ValueError("x")})
    assert event["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_an_invalid_current_span_adds_nothing() -> None:
    from opentelemetry import trace

    with trace.use_span(trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)):
        assert add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}


def test_importing_the_kit_and_tracing_imports_no_opentelemetry_beyond_fastapis() -> None:
    code = (
        "import sys, fastapi\n"
        "before = {m for m in sys.modules if m.startswith('opentelemetry')}\n"
        "import fastapi_kit, fastapi_kit.kit, fastapi_kit.tracing\n"
        "from fastapi_kit.tracing import tracing_requested\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry') and m not in before))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_sdk_loads_only_when_a_name_needing_it_is_used() -> None:
    code = (
        "import sys, fastapi_kit.tracing as t\n"
        "assert 'opentelemetry.sdk' not in sys.modules\n"
        "t.Tracing\n"
        "print('opentelemetry.sdk' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


def test_exc_info_without_an_exception_records_nothing(
    tracing: Tracing, spans: InMemorySpanExporter, traced_logs: LogCapture
) -> None:
    with tracing.tracer.start_as_current_span("work"):
        structlog.get_logger("tests").error("odd", exc_info=True)  # outside an except
    [span] = spans.get_finished_spans()
    assert span.events == ()
