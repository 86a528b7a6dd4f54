"""In-app notifications: rows a user reads through /api/users/notifications."""
