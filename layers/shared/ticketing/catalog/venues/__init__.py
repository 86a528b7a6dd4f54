"""Venues, their sections and the seats generated for each section."""
