"""Datasets that ship with modelspec (no network at run time)."""
