"""The catalog of SPEC §3: venues with their sections and seats, events with their seat inventory."""
