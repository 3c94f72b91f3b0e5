from ozg_common.cli import main

main()
