from stash2plex.provider.main import main

main()
