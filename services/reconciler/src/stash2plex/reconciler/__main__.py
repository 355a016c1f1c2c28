from stash2plex.reconciler.main import main

main()
