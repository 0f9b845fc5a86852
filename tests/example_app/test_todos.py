"""Todos: CRUD, isolation, validation, pagination, ETags and the per-user cache."""

from __future__ import annotations

import httpx
from todo_app_helpers import new_user


async def create(
    client: httpx.AsyncClient, auth: dict[str, str], **body: object
) -> dict[str, object]:
    response = await client.post("/todos", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_create_read_update_delete(client: httpx.AsyncClient) -> None:
    auth = await new_user(client, "ann@example.com")
    response = await client.post(
        "/todos", json={"title": "  Water plants ", "description": "the ferns"}, headers=auth
    )
    assert response.status_code == 201
    todo = response.json()
    assert set(todo) == {
        "id",
        "title",
        "description",
        "done",
        "owner_id",
        "created_at",
        "updated_at",
    }
    assert (todo["title"], todo["description"], todo["done"]) == (
        "Water plants",
        "the ferns",
        False,
    )
    assert response.headers["location"] == f"/api/v1/todos/{todo['id']}"

    read = await client.get(response.headers["location"].removeprefix("/api/v1"), headers=auth)
    assert read.json() == todo

    patched = await client.patch(f"/todos/{todo['id']}", json={"done": True}, headers=auth)
    assert patched.status_code == 200
    assert patched.json()["done"] is True
    assert patched.json()["title"] == "Water plants"  # untouched
    assert patched.json()["updated_at"] >= todo["updated_at"]

    deleted = await client.delete(f"/todos/{todo['id']}", headers=auth)
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = await client.get(f"/todos/{todo['id']}", headers=auth)
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"


async def test_someone_elses_todo_is_not_found(client: httpx.AsyncClient) -> None:
    owner = await new_user(client, "own@example.com")
    other = await new_user(client, "other@example.com")
    todo = await create(client, owner, title="private")
    path = f"/todos/{todo['id']}"
    for response in (
        await client.get(path, headers=other),
        await client.patch(path, json={"title": "mine now"}, headers=other),
        await client.delete(path, headers=other),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    missing = await client.get("/todos/999999", headers=other)
    assert missing.json() | {"request_id": None, "instance": None} == (
        response.json() | {"request_id": None, "instance": None, "detail": missing.json()["detail"]}
    )  # the same problem as a todo that does not exist
    listed = await client.get("/todos", headers=other)
    assert listed.json()["items"] == []
    assert (await client.get(path, headers=owner)).json()["title"] == "private"


async def test_todo_validation(client: httpx.AsyncClient) -> None:
    auth = await new_user(client, "val@example.com")
    todo = await create(client, auth, title="ok")
    bad_creates = [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 201},
        {"title": "ok", "description": "d" * 2001},
        {"title": "nul\u0000byte"},
        {"title": "ok", "done": "maybe"},
        {"title": "ok", "owner_id": 1},
        {"title": ["not", "a", "string"]},
    ]
    for body in bad_creates:
        response = await client.post("/todos", json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
    surrogate = await client.post(
        "/todos",
        content=b'{"title": "ok", "description": "lone \\ud800 surrogate"}',
        headers=auth | {"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422
    for body in ({"title": None}, {"done": None}, {"title": " "}, {"id": 5}):
        response = await client.patch(f"/todos/{todo['id']}", json=body, headers=auth)
        assert response.status_code == 422, body
    assert (await create(client, auth, title="x" * 200, description="d" * 2000))[
        "title"
    ] == "x" * 200
    assert (await create(client, auth, title="Ünïcode ✓ 日本語 🚀"))[
        "title"
    ] == "Ünïcode ✓ 日本語 🚀"
    assert (await create(client, auth, title="'; DROP TABLE todos; --"))["title"].startswith("'")
    for path in ("/todos/0", "/todos/-1", "/todos/abc", f"/todos/{2**63}"):
        assert (await client.get(path, headers=auth)).status_code == 422, path


async def test_hostile_bodies_get_problems(client: httpx.AsyncClient) -> None:
    auth = await new_user(client, "host@example.com")
    cases = [
        (b"{not json", "application/json"),
        (b'{"title": "x"}', "text/plain"),
        (b"[" * 10_000 + b"]" * 10_000, "application/json"),
        (b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}', "application/json"),
    ]
    for body, content_type in cases:
        response = await client.post(
            "/todos", content=body, headers=auth | {"Content-Type": content_type}
        )
        assert 400 <= response.status_code < 500, (body[:20], response.status_code)
        assert response.headers["content-type"] == "application/problem+json"


async def test_pagination_and_the_done_filter(client: httpx.AsyncClient) -> None:
    auth = await new_user(client, "page@example.com")
    ids = [(await create(client, auth, title=f"t{n}", done=n % 2 == 0))["id"] for n in range(5)]
    page = (await client.get("/todos", params={"limit": 2, "offset": 1}, headers=auth)).json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [item["id"] for item in page["items"]] == ids[1:3]
    done = (await client.get("/todos", params={"done": "true"}, headers=auth)).json()
    assert [item["id"] for item in done["items"]] == ids[0::2]
    assert done["total"] == 3
    default = (await client.get("/todos", headers=auth)).json()
    assert default["limit"] == 20
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"done": "perhaps"}):
        response = await client.get("/todos", params=params, headers=auth)
        assert response.status_code == 422, params


async def test_etags_answer_conditional_reads(client: httpx.AsyncClient) -> None:
    auth = await new_user(client, "etag@example.com")
    todo = await create(client, auth, title="tagged")
    first = await client.get(f"/todos/{todo['id']}", headers=auth)
    etag = first.headers["etag"]
    again = await client.get(f"/todos/{todo['id']}", headers=auth | {"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    await client.patch(f"/todos/{todo['id']}", json={"title": "changed"}, headers=auth)
    changed = await client.get(f"/todos/{todo['id']}", headers=auth | {"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_the_list_is_cached_per_user_and_every_write_shows_at_once(
    client: httpx.AsyncClient,
) -> None:
    auth = await new_user(client, "cache@example.com")
    other = await new_user(client, "cache2@example.com")
    todo = await create(client, auth, title="first")
    miss = await client.get("/todos", headers=auth)
    hit = await client.get("/todos", headers=auth)
    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT")
    assert hit.json() == miss.json()
    assert hit.headers["cache-control"].startswith("private")
    assert (await client.get("/todos", headers=other)).json()["items"] == []  # never shared

    writes = [
        client.post("/todos", json={"title": "second"}, headers=auth),
        client.patch(f"/todos/{todo['id']}", json={"done": True}, headers=auth),
        client.delete(f"/todos/{todo['id']}", headers=auth),
    ]
    expected = [["first", "second"], ["first", "second"], ["second"]]
    for write, titles in zip(writes, expected, strict=True):
        assert (await write).status_code < 300
        listed = await client.get("/todos", headers=auth)
        assert listed.headers["x-cache"] == "MISS"
        assert [item["title"] for item in listed.json()["items"]] == titles
    done = [item["done"] for item in (await client.get("/todos", headers=auth)).json()["items"]]
    assert done == [False]
