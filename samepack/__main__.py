from samepack.startup import main

main()
