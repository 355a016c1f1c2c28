from stash2plex.ingest.main import main

main()
