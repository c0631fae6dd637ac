from mskd.entry import main

main()
