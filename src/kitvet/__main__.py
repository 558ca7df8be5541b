from kitvet.cli import main

main()
