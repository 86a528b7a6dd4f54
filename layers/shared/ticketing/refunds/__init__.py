"""Refunds as a queue: cancellations queue them (payments in REFUND_PENDING), workers send them after commit.

`worker` claims, sends and settles; `trigger` wakes the refunds function after an event cancellation
commits; all SQL is in `repository`. See docs/refunds.md.
"""
