from stash2plex.syncer.main import main

main()
