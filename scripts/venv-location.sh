# Sourced by scripts/setup.sh (and its test): does a Python venv belong to the directory it sits in?
#
# pip writes the venv's absolute path into every script it installs (`#!/path/.venv/bin/python`, or for
# a long path or one with spaces `#!/bin/sh` plus `'''exec' "/path/.venv/bin/python" "$0" "$@"`).
# A moved or copied repository keeps those lines: its `jupyter` would run the original's Python, kernel
# and data. Paths are compared physically (`pwd -P`), so a repository reached through a symlink is
# not mistaken for a copy.

# The interpreter a pip-installed script runs, from its first two lines.
venv_script_interpreter() {
  local first second
  { IFS= read -r first || true; IFS= read -r second || true; } <"$1"
  first="${first#\#!}"
  if [ "$first" = "/bin/sh" ] && [[ "$second" =~ ^\'\'\'exec\'\ \"([^\"]+)\" ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
  else
    printf '%s\n' "${first%% *}"
  fi
}

# Prints why the venv at $1 cannot be used where it is (nothing, and status 1, when it can or when
# there is no venv at all). Status 0 means: rebuild it.
venv_foreign_reason() {
  local venv="$1" script="$1/bin/jupyter" interpreter here there
  [ -e "$venv" ] || return 1
  if [ ! -f "$script" ]; then
    echo "it has no bin/jupyter (an interrupted or foreign install)"
    return 0
  fi
  interpreter="$(venv_script_interpreter "$script")"
  here="$(cd "$venv/bin" && pwd -P)"
  there="$(cd "$(dirname "$interpreter")" 2>/dev/null && pwd -P || true)"
  if [ "$there" != "$here" ]; then
    echo "its scripts run ${interpreter:-an unknown interpreter}, made for another path"
    return 0
  fi
  return 1
}
