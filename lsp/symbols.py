"""Document symbols: registries, each holding its profiles."""
from __future__ import annotations

from lsprotocol import types

from .documents import Document
from .outline import outline


def document_symbols(doc: Document) -> list[types.DocumentSymbol]:
    out = []
    for reg in outline(doc):
        children = []
        for p in reg.profiles:
            k = p.key
            last = max(k.line, p.end_line - 1)
            children.append(
                types.DocumentSymbol(
                    name=k.key,
                    kind=types.SymbolKind.Object,
                    detail="profile",
                    range=doc.range(k.line, k.col, last, len(doc.line(last))),
                    selection_range=doc.range(k.line, k.col, k.line, k.end),
                )
            )
        last = max(reg.start_line, reg.end_line - 1)
        if reg.key is not None:
            selection = doc.range(reg.key.line, reg.key.col, reg.key.line, reg.key.end)
            start_col = reg.key.col
        else:
            selection = doc.range(0, 0, 0, len(doc.line(0)))
            start_col = 0
        out.append(
            types.DocumentSymbol(
                name=reg.name,
                kind=types.SymbolKind.Module,
                detail="registry",
                range=doc.range(reg.start_line, start_col, last, len(doc.line(last))),
                selection_range=selection,
                children=children,
            )
        )
    return out
