"""Stash2Plex ingest service."""
