"""Built-in task handlers. Importing this package registers them in the default registry."""
