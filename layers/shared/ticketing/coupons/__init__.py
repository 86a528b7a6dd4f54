"""Discount coupons: creation by admins and organizers, redemption inside a booking's transaction."""
