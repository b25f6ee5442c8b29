"""Messages to couriers: SMS backends and one-time codes."""
