from mskd.cli import main

main()
