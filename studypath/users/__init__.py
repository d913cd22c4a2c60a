"""Users: accounts, profiles and their administration."""
