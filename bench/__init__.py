"""Benchmarks: `python3 -m bench [NAME ...]` prints the numbers each issue asks for."""
