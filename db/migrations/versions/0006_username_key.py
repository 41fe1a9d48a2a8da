"""usernames unique regardless of case and look-alike characters (users.username_key)

Existing accounts whose names collide under the new rule are kept apart, never merged: the
oldest keeps the plain key, each later one gets `<key>#<id>` (its owner keeps logging in and
keeps the name; nobody else can take a look-alike). Each such collision is reported.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from db.usernames import username_key

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
users = sa.table(
    "users", sa.column("id", sa.Integer()), sa.column("username"), sa.column("username_key")
)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=255), nullable=True))
    if context.is_offline_mode():
        # Rendered SQL cannot run Python: lower() is the key of every ASCII name; a DBA with
        # non-ASCII or colliding names runs this revision online (`make migrate`) instead.
        log.warning("offline: username_key backfilled with lower(username), ASCII rules only")
        op.execute(users.update().values(username_key=sa.func.lower(users.c.username)))
    else:
        _backfill()
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_username_key"), ["username_key"])


def _backfill() -> None:
    connection = op.get_bind()
    owners: dict[str, tuple[int, str]] = {}
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id))
    for user_id, username in rows.all():
        key = username_key(username)
        if key in owners:
            first_id, first_name = owners[key]
            log.warning(
                "username %r (id %s) collides with %r (id %s): kept apart as %r",
                username, user_id, first_name, first_id, f"{key}#{user_id}",
            )  # fmt: skip
            key = f"{key}#{user_id}"
        else:
            owners[key] = (user_id, username)
        connection.execute(users.update().where(users.c.id == user_id).values(username_key=key))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_username_key"), type_="unique")
        batch_op.drop_column("username_key")
