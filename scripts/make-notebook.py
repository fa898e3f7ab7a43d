"""Writes a notebook (nbformat 4, no outputs, project kernel) from a simple cell list.

Usage: python3 scripts/make-notebook.py OUT.ipynb < cells.txt
Cells are separated by lines '%% md' or '%% code'; words after the kind are cell tags
('%% code parameters' marks the papermill-style parameters cell that scripts/execute-notebook.py overrides).
"""
import json
import sys
import hashlib

out = sys.argv[1]
cells, kind, tags, lines = [], None, [], []

def flush():
    if kind is None:
        return
    text = "\n".join(lines).strip("\n")
    cid = hashlib.sha1(f"{out}:{len(cells)}:{text}".encode()).hexdigest()[:8]
    metadata = {"tags": tags} if tags else {}
    cell = {"cell_type": "markdown" if kind == "md" else "code", "id": cid, "metadata": metadata, "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update({"execution_count": None, "outputs": []})
    cells.append(cell)

for line in sys.stdin.read().splitlines():
    if line.startswith("%% "):
        flush()
        kind, *tags = line[3:].split()
        lines = []
    else:
        lines.append(line)
flush()
nb = {
    "cells": cells,
    "metadata": {
        "kernelspec": {"name": "iwae-lab", "display_name": "TypeScript (iwae-lab)", "language": "typescript"},
        "language_info": {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
with open(out, "w") as f:
    json.dump(nb, f, indent=1, ensure_ascii=False)
    f.write("\n")
