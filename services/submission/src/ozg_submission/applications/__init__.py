"""Native form intake, an adapter on the core (`lifecycle`): route via zufi, validate, render XÖV
XML, encrypt, submit."""
