"""Payment service providers: one adapter interface, an XBezahldienste upstream adapter, and a
simulated provider (a real HTTP provider with a checkout page) for development, tests and demos."""
