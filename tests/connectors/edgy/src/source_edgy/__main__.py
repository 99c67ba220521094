from source_edgy import main

main()
