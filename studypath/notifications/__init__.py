"""Notifications: messages for a user, written by background tasks (e.g. a note was shared)."""
