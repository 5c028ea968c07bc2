"""One module per `modelspec` command, each defining the click command of its name.

modelspec_cli.main's table lists them; a module is imported when its command is used, or for
`modelspec --help`, so its top imports only click and modelspec_cli's light modules.
"""
