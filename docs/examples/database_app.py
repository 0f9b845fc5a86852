"""A small app on the database block: models, DbSession, pagination, 409s."""

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from fastapi_kit.db import (
    Base,
    Database,
    DbSession,
    Page,
    Pagination,
    TimestampMixin,
    get_database,
    paginate,
)
from fastapi_kit.errors import NotFound, install_error_handlers, problem_responses


class Book(TimestampMixin, Base):
    """A book; ``created_at``/``updated_at`` come from the mixin."""

    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    isbn: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str] = mapped_column(String(200))


class BookIn(BaseModel):
    """What a client sends."""

    isbn: str
    title: str


class BookOut(BookIn):
    """What a client gets back."""

    model_config = ConfigDict(from_attributes=True)

    id: int


# --8<-- [start:database]
database = Database(
    "sqlite+aiosqlite:///./books.db",
    conflict_messages={"books.isbn": "A book with this ISBN already exists."},
)
# --8<-- [end:database]
app = FastAPI(lifespan=database.lifespan)
install_error_handlers(app)


@app.post("/books", status_code=201, responses=problem_responses(409))
async def add_book(book: BookIn, session: DbSession) -> BookOut:
    """Add a book: committed when this returns, before the 201 is sent."""
    row = Book(isbn=book.isbn, title=book.title)
    session.add(row)
    await session.flush()  # assigns the id; a duplicate ISBN fails here with a 409
    return BookOut.model_validate(row)


@app.get("/books", response_model=Page[BookOut])
async def list_books(session: DbSession, page: Pagination) -> Page[Any]:
    """One page of books, by id: ``{items, total, limit, offset}``."""
    return await paginate(session, select(Book).order_by(Book.id), page)


# --8<-- [start:inline]
@app.get("/books/{book_id}", responses=problem_responses(NotFound))
async def get_book(book_id: int, db: Annotated[Database, Depends(get_database)]) -> BookOut:
    """One book, or a 404 problem: the unit of work opened inline, not as a dependency."""
    async with db.transaction() as session:
        book = await session.get(Book, book_id)
    if book is None:
        raise NotFound(f"Book {book_id} not found")
    return BookOut.model_validate(book)


# --8<-- [end:inline]


# --8<-- [start:script]
async def seed_books() -> None:
    """Work outside a request: committed at the end of the block, rolled back if it raises."""
    async with database.transaction() as session:
        session.add(Book(isbn="9780262046305", title="Introduction to Algorithms"))


# --8<-- [end:script]
