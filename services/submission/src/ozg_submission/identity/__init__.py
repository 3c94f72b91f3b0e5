"""Who may call: OAuth2 clients with hashed secrets, the token endpoint, scopes."""
