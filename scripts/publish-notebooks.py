"""Writes the notebooks a visitor sees on a code host: notebooks/published/<name>.ipynb, static copies
of the executed notebooks of one profile (default paper), meant to be committed.

Usage: .venv/bin/python scripts/publish-notebooks.py [PROFILE]   (after `make run PROFILE=...`)

Each figure keeps only its static PNG (as image/png, which GitHub and nbviewer render) and its title;
the plotly JSON, which GitHub cannot draw, is dropped, and so are the progress displays. Tables keep
their HTML and text. This keeps a full set to roughly the size of its PNGs. The tracked notebooks in
notebooks/ stay without outputs; `make run` never writes here, so the working tree stays clean.
"""
import os
import re
import sys

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLOTLY = "application/vnd.plotly.v1+json"
IMG = re.compile(r'src="data:image/png;base64,([^"]+)"')


def static_output(output):
    data = output.get("data", {})
    if "iwae-progress" in "".join(data.get("text/html", "")):
        return None
    if PLOTLY in data:
        png = IMG.search("".join(data.get("text/html", "")))
        output["data"] = {"text/plain": data.get("text/plain", "")}
        if png:
            output["data"]["image/png"] = png.group(1)
    output.get("transient", {}).clear()
    return output


def main():
    profile = sys.argv[1] if len(sys.argv) > 1 else "paper"
    source = os.path.join(ROOT, "notebooks", "executed", profile)
    names = sorted(n for n in os.listdir(source) if n.endswith(".ipynb")) if os.path.isdir(source) else []
    if not names:
        print(f"publish-notebooks: no executed notebooks in {source}; run `make run PROFILE={profile}` first", file=sys.stderr)
        sys.exit(1)
    out_dir = os.path.join(ROOT, "notebooks", "published")
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        nb = nbformat.read(os.path.join(source, name), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in (static_output(o) for o in cell.outputs) if o is not None]
        nb.metadata["iwae_published"] = {"profile": profile}
        path = os.path.join(out_dir, name)
        tmp = path + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, path)
        print(f"{os.path.relpath(path, ROOT)}: {os.path.getsize(path) // 1024} KB")


if __name__ == "__main__":
    main()
