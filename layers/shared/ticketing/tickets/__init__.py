"""Tickets and check-in: Ed25519-signed codes, QR codes, transfer, gates that admit each ticket once."""
