#!/usr/bin/env bash
# Record the asv benchmarks of the current commit, measured in the current Python
# environment (asv's "existing environment" route: no virtualenv is built).
#
# usage: tools/asv_record.sh [asv run options, e.g. --quick or --bench REGEX]
#
# The package must be installed in this environment from this work tree (editable or
# not) and its sources must be committed: the results are filed under HEAD's hash.
# Environment: PYTHON (default python3), ASV_MACHINE (machine name, default vm: its
# description is the committed .asv/results/vm/machine.json), ASV_ALLOW_DIRTY=1 to
# record despite uncommitted package sources.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
py=${PYTHON:-python3}

if [[ -n "$(git status --porcelain -- src pyproject.toml)" && -z "${ASV_ALLOW_DIRTY:-}" ]]; then
    echo "asv_record: src/ or pyproject.toml has uncommitted changes; commit them first" \
         "(or set ASV_ALLOW_DIRTY=1): the results would be filed under HEAD" >&2
    exit 2
fi
hash=$(git rev-parse HEAD)
where=$("$py" -c 'import verify_sublin, os; print(os.path.dirname(verify_sublin.__file__))')
echo "asv_record: commit ${hash:0:8}, verify_sublin from $where" >&2

# One series: the committed machine description (never rewritten from the host) and
# one environment name whatever interpreter records (tools/asv_series.py).
machine=${ASV_MACHINE:-vm}
"$py" tools/asv_series.py install "$machine"
# --quick leaves the multi-layer nets' largest width out (asv_benchmarks/bench_deep.py)
for arg in "$@"; do [[ "$arg" == "--quick" ]] && export VERIFY_SUBLIN_ASV_QUICK=1; done
"$py" -m asv run --python=same --set-commit-hash "$hash" --machine "$machine" "$@"
"$py" tools/asv_series.py normalise "$machine" >/dev/null
