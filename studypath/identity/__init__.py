"""Who a user is: the account row, its role, its password rules, and the queries that
create and find accounts. The bottom of the account packages: credentials (`auth`), role
checks (`rbac`) and user management (`users`) build on it."""
