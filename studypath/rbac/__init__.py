"""Role-based access control: the role hierarchy and the dependencies that enforce it."""
