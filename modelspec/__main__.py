"""`python -m modelspec` (and `torchrun -m modelspec`): the command line. The one module of the library that imports the CLI."""
from modelspec_cli.main import main

main(prog_name="modelspec")
