"""Many ids bound as one parameter.

A set of ids travels as PostgreSQL's array literal (`{id,id,...}`) in a single text parameter and is read in
SQL as `CAST(:ids AS uuid[])`. The driver then sends one string instead of encoding a list element by element,
which is what makes a statement over 50,000 bookings cost about what it costs over 50.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class IdSet:
    literal: str
    count: int

    @classmethod
    def of(cls, ids: Iterable[UUID | str]) -> IdSet:
        values = [str(UUID(str(value))) for value in ids]
        return cls("{" + ",".join(values) + "}", len(values))

    @classmethod
    def from_sql(cls, literal: str | None, count: int) -> IdSet:
        """From `array_agg(id)::text` and its count, as a query that locks the rows answers them."""
        return cls(literal or "{}", count)

    def __bool__(self) -> bool:
        return self.count > 0
