"""Worked examples that live outside the wsss_mm package (see docs/extending.md)."""
