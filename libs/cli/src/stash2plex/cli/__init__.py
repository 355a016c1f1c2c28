"""The stash2plex operator command."""
