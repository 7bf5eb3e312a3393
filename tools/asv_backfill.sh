#!/usr/bin/env bash
# Back-fill asv results for the last N commits of the current branch that change the
# package sources (src/; first-parent history, oldest first), then build the html
# report with `asv publish`. A commit that leaves src/ as its parent had it would
# measure the same code again, so it is passed over (a commit that only changes the
# dependencies in pyproject.toml is passed over too: record it with asv_record.sh).
#
# usage: tools/asv_backfill.sh [N] [asv run options, e.g. --quick]
#
# asv refuses a commit range with an existing environment, so each commit is
# exported with `git archive`, installed into one reusable virtualenv
# (.asv/env/backfill, created on first use) and benchmarked there with
# `asv run --python=same --set-commit-hash HASH`. The benchmarks are always those of
# the current work tree; a benchmark whose API a commit lacks raises
# NotImplementedError in its setup and is recorded as skipped.
# Environment: ASV_MACHINE (machine name, default vm), ASV_BACKFILL_VENV
# (the virtualenv's path), BASE_PYTHON (interpreter for a new one, default python3).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
count=${1:-3}
[[ $# -gt 0 ]] && shift
if ! [[ "$count" =~ ^[1-9][0-9]*$ ]]; then
    echo "asv_backfill: N must be a positive number of commits, got '$count'" >&2
    exit 2
fi
root=$PWD
venv=${ASV_BACKFILL_VENV:-$root/.asv/env/backfill}
if [[ ! -x "$venv/bin/python" ]]; then
    "${BASE_PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip setuptools wheel
fi
py=$venv/bin/python
"$py" -m pip install --quiet "$root[bench]"        # asv, virtualenv and the dependencies

machine=${ASV_MACHINE:-vm}
"$py" tools/asv_series.py install "$machine"      # the committed machine description
for arg in "$@"; do [[ "$arg" == "--quick" ]] && export VERIFY_SUBLIN_ASV_QUICK=1; done

mapfile -t commits < <(git rev-list --first-parent -n "$count" HEAD -- src \
                       | tac)
if [[ ${#commits[@]} -lt $count ]]; then
    echo "asv_backfill: only ${#commits[@]} commits change src/" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for hash in "${commits[@]}"; do
    echo "asv_backfill: $(git log -1 --format='%h %s' "$hash")" >&2
    rm -rf "$work/src" && mkdir "$work/src"
    git archive "$hash" | tar -x -C "$work/src"
    # its dependencies, then the package itself even though every version is 0.1.0
    "$py" -m pip install --quiet --no-build-isolation "$work/src"
    "$py" -m pip install --quiet --no-build-isolation --force-reinstall --no-deps "$work/src"
    "$py" -m asv run --python=same --set-commit-hash "$hash" --machine "$machine" "$@"
done
"$py" tools/asv_series.py normalise "$machine" >/dev/null   # one environment name
"$py" -m asv publish
