"""Events: their lifecycle (DRAFT -> PUBLISHED -> CANCELLED | COMPLETED), prices, seat inventory and seat map."""
