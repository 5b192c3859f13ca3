"""`python -m migrate` is the `migrate` command."""

from migrate.cli import main

main()
