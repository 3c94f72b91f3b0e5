"""ePayment after XBezahldienste, with a checkout page of a simulated provider."""
