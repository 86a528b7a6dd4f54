"""DATABASE_URL parsing: TCP, Unix sockets and TLS."""

from __future__ import annotations

import pytest

from ticketing.db.dsn import parse_database_url


def test_a_tcp_url_gives_host_port_and_credentials() -> None:
    params = parse_database_url("postgresql://app:p%40ss@db.example.com:6543/tickets")

    assert (params.user, params.password, params.host, params.port, params.database) == (
        "app",
        "p@ss",
        "db.example.com",
        6543,
        "tickets",
    )
    assert params.unix_socket is None
    assert params.as_pg8000_kwargs()["host"] == "db.example.com"


def test_a_socket_directory_in_host_gives_the_socket_file() -> None:
    params = parse_database_url("postgresql://postgres:@/ticketing?host=/tmp/pg")

    assert params.unix_socket == "/tmp/pg/.s.PGSQL.5432"
    assert "host" not in params.as_pg8000_kwargs()


def test_sslmode_require_turns_tls_on() -> None:
    params = parse_database_url("postgresql://u:p@h/db?sslmode=require")

    assert params.require_tls
    assert params.as_pg8000_kwargs()["ssl_context"] is not None


def test_other_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        parse_database_url("mysql://u:p@h/db")
