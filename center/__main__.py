from center.cli import main

main()
