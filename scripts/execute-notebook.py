"""Executes one notebook headless, papermill-style, without touching the tracked file.

Usage: .venv/bin/python scripts/execute-notebook.py NOTEBOOK.ipynb [--out DIR] [-p NAME VALUE]...

The cell tagged `parameters` holds the defaults (`let profile = ...`); each -p NAME VALUE becomes an
assignment in a new cell tagged `injected-parameters` right after it (papermill's convention; VALUE is
read as JSON when it parses, e.g. a number, else as a string). The executed copy goes to
DIR/<name>.ipynb (default: notebooks/executed/<profile>/, git-ignored), written only when every cell ran.
Exit 1 on a cell error (the error is printed), 2 on bad usage.
"""
import argparse
import json
import os
import re
import sys
import tempfile

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def fail(message, code=2):
    print(f"execute-notebook: {message}", file=sys.stderr)
    sys.exit(code)


def parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def inject_parameters(nb, params):
    """Inserts the override cell after the `parameters` cell (replacing an earlier injected one)."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    index = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if index is None:
        fail("the notebook has no cell tagged `parameters` to override")
    declared = set(re.findall(r"^\s*let\s+([A-Za-z_][A-Za-z0-9_]*)", "".join(nb.cells[index].source), re.M))
    for name in params:
        if name not in declared:
            fail(f"unknown parameter '{name}' (the parameters cell declares: {', '.join(sorted(declared)) or 'nothing'})")
    lines = ["// Injected parameters (scripts/execute-notebook.py)"]
    # `void (...)`: an assignment as the last statement would be echoed as the cell's value.
    lines += [f"void ({name} = {json.dumps(value)});" for name, value in params.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    cell.id = "injected-parameters"
    nb.cells.insert(index + 1, cell)


def main():
    parser = argparse.ArgumentParser(description="Execute one notebook headless with parameter overrides.")
    parser.add_argument("notebook")
    parser.add_argument("--out", help="directory for the executed copy (default: notebooks/executed/<profile>)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--timeout", type=int, default=-1, help="seconds per cell (default: none)")
    args = parser.parse_args()
    if not os.path.isfile(args.notebook):
        fail(f"no notebook at {args.notebook}")
    params = {}
    for name, value in args.parameter:
        if not NAME.match(name):
            fail(f"bad parameter name '{name}'")
        params[name] = parse_value(value)
    nb = nbformat.read(args.notebook, as_version=4)
    if params:
        inject_parameters(nb, params)
    profile = params.get("profile") or os.environ.get("IWAE_PROFILE") or "paper"
    out_dir = args.out or os.path.join(ROOT, "notebooks", "executed", str(profile))
    out = os.path.join(out_dir, os.path.basename(args.notebook))
    client = NotebookClient(nb, timeout=None if args.timeout < 0 else args.timeout, kernel_name="iwae-lab",
                            resources={"metadata": {"path": ROOT}})
    try:
        client.execute()
    except CellExecutionError as err:
        print(str(err)[-4000:], file=sys.stderr)
        fail(f"{os.path.basename(args.notebook)}: a cell failed; no executed copy written", 1)
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".ipynb.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
