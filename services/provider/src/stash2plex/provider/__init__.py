"""Stash2Plex provider service."""
