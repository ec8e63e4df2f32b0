"""Sign-in, roles and access rules."""
