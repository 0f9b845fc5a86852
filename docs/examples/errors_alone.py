"""The error envelope on its own: no other block is installed."""

from fastapi import FastAPI
from pydantic import BaseModel, Field

from fastapi_kit.errors import Conflict, NotFound, install_error_handlers, problem_responses

app = FastAPI()
install_error_handlers(app)

TODOS: dict[int, str] = {1: "Write the docs"}


class TodoIn(BaseModel):
    """A new todo."""

    title: str = Field(min_length=1, max_length=200)


class TodoLimitReached(Conflict):
    """An app-specific error: its own code, the 409 status of its parent."""

    code = "todo_limit_reached"
    title = "Todo limit reached"


@app.get("/todos/{todo_id}", responses=problem_responses(NotFound))
async def get_todo(todo_id: int) -> dict[str, str]:
    """Return a todo, or a 404 problem."""
    if todo_id not in TODOS:
        raise NotFound(f"Todo {todo_id} not found")
    return {"title": TODOS[todo_id]}


@app.post("/todos", status_code=201, responses=problem_responses(TodoLimitReached))
async def create_todo(todo: TodoIn) -> dict[str, str]:
    """Create a todo; at most three, to show an app-specific error."""
    if len(TODOS) >= 3:
        raise TodoLimitReached("You can have at most 3 todos", extra={"limit": 3})
    TODOS[len(TODOS) + 1] = todo.title
    return {"title": todo.title}
