"""Shared layer of the ticket booking backend: domain modules, data access and HTTP plumbing."""
