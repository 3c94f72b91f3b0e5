"""The fee catalogue: a read model of zufi's `ServiceChanged` events."""
