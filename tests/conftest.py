"""Shared pytest configuration of the test suite."""

# Scripts that regenerate fixtures with TensorFlow: not tests, and TF is not installed here.
collect_ignore = ["fixtures"]
