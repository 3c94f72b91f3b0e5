"""What other services tell submission: payments, deliveries, the authority's decision, citizens' replies."""
