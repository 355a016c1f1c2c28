"""Stash2Plex syncer service."""
