"""The catalog (docs/api.md): venues with their sections and seats, events with their seat inventory."""
