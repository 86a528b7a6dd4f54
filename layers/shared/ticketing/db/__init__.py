"""Data access plumbing: the connection, transactions and SQLSTATE mapping. SQL itself lives per aggregate."""

from ticketing.db.connection import Session, transaction

__all__ = ["Session", "transaction"]
