"""The click front end of modelspec (installed as the package `modelspec_cli`)."""
