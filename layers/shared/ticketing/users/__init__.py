"""User accounts, profiles and notifications."""
