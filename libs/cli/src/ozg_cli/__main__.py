from ozg_cli import main

main()
