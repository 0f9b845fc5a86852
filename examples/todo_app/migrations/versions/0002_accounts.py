"""Accounts: email keys, verification, TOTP and recovery codes on ``users``.

The columns of ``fastapi_kit.accounts.UserMixin`` that 0001 lacks. ``email_key`` is
unique and filled for the existing accounts with ``email_key(email)``, computed here in
Python. Two accounts whose addresses map to one key (look-alike addresses registered
before this revision) stop the upgrade before anything changes, naming the accounts:
an operator decides which one keeps the address, then runs the upgrade again.

On SQLite the ``users`` table is rebuilt (batch mode), which needs ``PRAGMA
foreign_keys`` off, as ``migrations/env.py`` leaves it: with it on, dropping the old
table would delete every todo (``ON DELETE CASCADE``). The revision refuses to run then.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from fastapi_kit.accounts.emails import email_key

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 1000
"""Accounts read, and keys written, per statement."""

_NEW_COLUMNS = ("is_verified", "totp_secret", "mfa_enabled", "recovery_codes")

users = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("email", sa.String(320)),
    sa.column("email_key", sa.String(1024)),
)


def upgrade() -> None:
    """Add the account columns; fill ``email_key`` for the existing accounts."""
    if context.is_offline_mode():
        msg = "revision 0002 computes the email keys in Python: run it online, not with --sql"
        raise RuntimeError(msg)
    bind = op.get_bind()
    _refuse_sqlite_foreign_keys(bind)
    if bind.dialect.name == "postgresql":  # no account added or changed until the commit
        op.execute("LOCK TABLE users IN EXCLUSIVE MODE")
    keys = _email_keys(bind)  # raises before any change when keys collide

    op.add_column("users", sa.Column("email_key", sa.String(length=1024), nullable=True))
    op.add_column(
        "users", sa.Column("is_verified", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("users", sa.Column("totp_secret", sa.String(length=255), nullable=True))
    op.add_column(
        "users", sa.Column("mfa_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "users", sa.Column("recovery_codes", sa.JSON(), server_default="[]", nullable=False)
    )

    fill = (
        users.update()
        .where(users.c.id == sa.bindparam("user_id"))
        .values(email_key=sa.bindparam("key"))
    )
    pairs = list(keys.items())
    for start in range(0, len(pairs), BATCH_SIZE):
        bind.execute(
            fill, [{"user_id": i, "key": key} for key, i in pairs[start : start + BATCH_SIZE]]
        )

    # SQLite can neither make a column NOT NULL nor add a constraint in place: batch
    # mode rebuilds the table there (ids and every value copied); PostgreSQL alters it.
    with op.batch_alter_table("users") as batch:
        batch.alter_column("email_key", existing_type=sa.String(length=1024), nullable=False)
        batch.create_unique_constraint(batch.f("uq_users_email_key"), ["email_key"])


def downgrade() -> None:
    """Drop the account columns."""
    _refuse_sqlite_foreign_keys(op.get_bind())
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("uq_users_email_key"), type_="unique")
        batch.drop_column("email_key")
        for name in _NEW_COLUMNS:
            batch.drop_column(name)


def _email_keys(bind: sa.Connection) -> dict[str, int]:
    """Each account's key, mapped to the account's id; an error if any two collide."""
    owners: dict[str, int] = {}
    collisions: dict[str, list[int]] = {}
    invalid: list[int] = []
    last_id: int | None = None
    while True:
        query = sa.select(users.c.id, users.c.email).order_by(users.c.id).limit(BATCH_SIZE)
        if last_id is not None:
            query = query.where(users.c.id > last_id)
        rows = bind.execute(query).all()
        if not rows:
            break
        for user_id, email in rows:
            try:
                key = email_key(email)
            except ValueError:
                invalid.append(user_id)
                continue
            if key in owners:
                collisions.setdefault(key, [owners[key]]).append(user_id)
            else:
                owners[key] = user_id
        last_id = rows[-1].id
    if collisions or invalid:
        raise RuntimeError(_problems(list(collisions.values()), invalid))
    return owners


def _problems(collisions: list[list[int]], invalid: list[int]) -> str:
    lines = ["revision 0002 cannot give every account its email key; nothing was changed."]
    if collisions:
        lines.append(
            "Accounts whose addresses look alike (one key), by id: "
            + "; ".join(", ".join(map(str, ids)) for ids in collisions)
            + ". Keep one account of each group: change the other addresses or delete "
            "those accounts."
        )
    if invalid:
        lines.append(
            f"Accounts whose address is not valid, by id: {', '.join(map(str, invalid))}. "
            "Correct or delete them."
        )
    lines.append("Then run the migration again.")
    return "\n".join(lines)


def _refuse_sqlite_foreign_keys(bind: sa.Connection) -> None:
    """Stop if rebuilding ``users`` on SQLite would cascade to the todos."""
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        msg = (
            "revision 0002 rebuilds the users table, and PRAGMA foreign_keys is on for this "
            "connection: dropping the old table would delete every todo (ON DELETE CASCADE). "
            "Run it on a connection with foreign keys off (as migrations/env.py does)."
        )
        raise RuntimeError(msg)
