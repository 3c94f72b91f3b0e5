"""A simulated payment service provider: speaks XBezahldienste, shows a checkout page, notifies.

It behaves like a real one over HTTP, so the payment service talks to it through the same
upstream adapter it uses for any standard-compliant provider.
"""
