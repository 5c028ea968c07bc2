"""`python -m modelspec_cli`: the command line."""
from modelspec_cli.main import main

main(prog_name="modelspec")
