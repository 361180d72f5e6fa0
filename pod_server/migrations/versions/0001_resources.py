"""The resources table.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Hand-written; must work on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Paths sort in code-point order (Backend.children). SQLite's default BINARY collation compares
# UTF-8 bytes, which is code-point order; PostgreSQL needs the "C" collation for that.
_PATH = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("path", _PATH, nullable=False),
        # NULL only for the root. The foreign key keeps the tree whole: no child without its
        # container, no container deleted under a child.
        sa.Column("parent", _PATH, nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime", sa.Double(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=False),
        # Last, so reading the metadata columns never touches the body's pages.
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_resources"),
        sa.ForeignKeyConstraint(
            ["parent"], ["resources.path"], name="fk_resources_parent", ondelete="RESTRICT"
        ),
        sa.CheckConstraint("(parent IS NULL) = (path = '/')", name="ck_resources_root"),
    )
    # Backend.children: WHERE parent = ? AND path > ? ORDER BY path LIMIT ? is a range scan.
    op.create_index("ix_resources_parent_path", "resources", ["parent", "path"])


def downgrade() -> None:
    op.drop_index("ix_resources_parent_path", table_name="resources")
    op.drop_table("resources")
