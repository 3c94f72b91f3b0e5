"""Working on received applications: open them, check them, answer through the return channel."""
