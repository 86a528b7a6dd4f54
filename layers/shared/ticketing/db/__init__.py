"""Data access plumbing: the connection, transactions and SQLSTATE mapping. SQL itself lives per aggregate."""

from ticketing.db.connection import Session, transaction, unit_of_work

__all__ = ["Session", "transaction", "unit_of_work"]
