"""Role-based access control: who may act on whom (`policy`) and the dependencies that
enforce a minimum role (`dependencies`). The roles themselves are `identity.roles`."""
