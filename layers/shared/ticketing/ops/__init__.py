"""Operations over the whole system, above every aggregate: they compose what the aggregates state, and own
no table of their own (docs/operations.md)."""
