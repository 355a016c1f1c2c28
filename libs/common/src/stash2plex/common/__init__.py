"""What every Stash2Plex service shares: settings, message contracts, the NATS topology,
the embedded broker, the Stash client, logging and metrics."""
