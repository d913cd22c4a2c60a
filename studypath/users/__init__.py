"""Managing users: profiles, password changes, moderation, roles, statistics (the account
itself — the row, its role, its password rules — is `studypath.identity`)."""
