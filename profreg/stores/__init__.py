"""Stores: one contract, interchangeable backends (memory, YAML file, SQLite)."""
