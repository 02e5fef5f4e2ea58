"""The profreg language server (pygls)."""
