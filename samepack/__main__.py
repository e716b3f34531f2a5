from samepack.cli import main

main()
