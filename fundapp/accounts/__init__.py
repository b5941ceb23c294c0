"""Users, roles, login, invitations and password reset."""
