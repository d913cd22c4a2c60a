from studypath.cli import main

main()
