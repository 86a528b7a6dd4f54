"""What every benchmark starts from: its own embedded PostgreSQL, migrated, and the API invoked in-process."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BenchSetup:
    api: Any  # devtools.api_client.InProcessApi, imported only once the environment is set
    postgres_version: str


@contextmanager
def bench_setup(name: str) -> Iterator[BenchSetup]:
    """A fresh database for one benchmark, with the settings a handler reads set before any is imported."""
    from devtools.embedded_db import embedded_server, scratch_database

    with (
        tempfile.TemporaryDirectory(prefix=f"{name}-") as folder,
        embedded_server(Path(folder) / "pgdata", keep_data=False) as server_url,
        scratch_database(server_url, name) as url,
    ):
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(48))
        os.environ.setdefault("BCRYPT_ROUNDS", "4")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        from devtools.api_client import InProcessApi
        from ticketing.config import get_settings
        from ticketing.db import transaction
        from ticketing.db.connection import close_connection
        from ticketing.db.migrate import apply_migrations

        get_settings.cache_clear()
        apply_migrations()
        with transaction() as tx:
            postgres_version = str(tx.value("SHOW server_version"))
        try:
            yield BenchSetup(InProcessApi(REPO_ROOT / "template.yaml"), postgres_version)
        finally:
            close_connection()


def write_results(path: Path, header: list[str], postgres_version: str, table_rows: list[str]) -> None:
    """A results file: what was measured and how, the machine, then the `measure | median | range` table."""
    from bench.machine import machine_lines

    lines = [
        *header,
        "",
        *machine_lines(postgres_version),
        "",
        "| measure | median | range |",
        "|---|---|---|",
        *table_rows,
        "",
    ]
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines))
    print(path.read_text())


def replace_doc_section(title: str, body: list[str], doc: Path = REPO_ROOT / "docs" / "benchmarks.md") -> None:
    """Puts `## title` with `body` into docs/benchmarks.md: replaces that section if present, else appends it."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    section = "\n".join([f"## {title}", "", *body, ""])
    head, marker, tail = text.partition(f"\n## {title}\n")
    if marker:
        rest = tail.split("\n## ", 1)
        text = head.rstrip("\n") + "\n\n" + section + ("\n## " + rest[1] if len(rest) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


def add_priced_section(tx: Any, *, venue: Any, event: Any, name: str, rows: int, seats_per_row: int) -> Any:
    """A venue section of rows x seats_per_row seats, priced 2500 for the event; its event seats are copied
    afterwards, all sections at once, by the product's own `add_seat_inventory`."""
    section = tx.value(
        "INSERT INTO sections (venue_id, name, rows, seats_per_row, default_price)"
        " VALUES (:venue, :name, :rows, :per_row, 2500) RETURNING id",
        venue=venue,
        name=name,
        rows=rows,
        per_row=seats_per_row,
    )
    tx.execute(
        "INSERT INTO venue_seats (section_id, row_index, row_label, number)"
        " SELECT :section, r, seat_row_label(r), n FROM generate_series(1, :rows) r, generate_series(1, :per_row) n",
        section=section,
        rows=rows,
        per_row=seats_per_row,
    )
    tx.execute(
        "INSERT INTO event_sections (event_id, section_id, price) VALUES (:event, :section, 2500)",
        event=event,
        section=section,
    )
    return section
