from stash2plex.cli.main import app

app()
