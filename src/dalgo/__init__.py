"""Dalgo: an open-source data platform for NGOs."""

__version__ = "0.1.0"
