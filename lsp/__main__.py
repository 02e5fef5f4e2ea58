"""`python -m profreg_lsp`: the language server on stdio."""
from .launch import main

main()
