"""Native form intake: route via zufi, validate, render XÖV XML, encrypt, submit."""
