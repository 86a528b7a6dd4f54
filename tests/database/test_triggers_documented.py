"""Every trigger in the schema is named in docs/architecture.md, with what it does and what fires it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_every_trigger_of_the_schema_is_named_in_the_architecture_doc(db: Any) -> None:
    triggers = {
        row["tgname"]
        for row in db.rows(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal"
        )
    }
    documented = ARCHITECTURE.read_text()

    assert len(triggers) >= 10
    assert (
        sorted(
            name
            for name in triggers
            if f"`{name}`" not in documented and f"`{name.rsplit('_', 1)[0]}_" not in documented
        )
        == []
    )
