"""Authentication: sessions, login, API keys."""
