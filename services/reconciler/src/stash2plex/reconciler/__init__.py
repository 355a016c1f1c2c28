"""Stash2Plex reconciler service."""
