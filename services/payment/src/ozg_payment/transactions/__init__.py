"""Payment transactions after XBezahldienste: creation, confirmation with the provider, outcomes."""
