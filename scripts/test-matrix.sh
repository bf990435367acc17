#!/usr/bin/env bash
# The Python matrix: the test suite on python3.9 and python3.13, each in its own venv
# (.venv-3.9/, .venv-3.13/, rebuilt when pyproject.toml or setup.py changes), and on the main
# .venv's Python (3.11) with thrift's C extension blocked (scripts/no-fastbinary/). Lint and
# mypy run once, in `make lint`; the full 3.11 run is `make test`'s own.
#
#   scripts/test-matrix.sh               # every leg: 3.9 3.13 nofast
#   scripts/test-matrix.sh 3.13 nofast   # the legs named
#
# Environment: MATRIX_PYTEST_ARGS adds pytest arguments to every leg (e.g. "-x");
# MATRIX_EXTRAS is what the extra venvs install (default: test, plus interop if pyproject has it);
# MATRIX_JOBS=serial runs the legs one after another (default: all at once, output per leg).
# Every leg runs even if one fails; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

legs=("$@")
if [ ${#legs[@]} -eq 0 ]; then
    legs=(3.9 3.13 nofast)
fi
if [ -z "${MATRIX_EXTRAS:-}" ]; then
    MATRIX_EXTRAS=test
    if grep -Eq '^interop *=' pyproject.toml; then
        MATRIX_EXTRAS=test,interop
    fi
fi
# Left to the main 3.11 run: benchmarks (they measure, not test); test_reporter_exit.py, which
# already runs its exit scenarios under every python3.11+ it finds; and tests marked slow
# (throughput at 20,000 spans/s, whole suites re-run under python -O), and CPU-time gates marked
# timing (three legs at once on two cores inflate CPU time; the main run gates them). Hypothesis
# suites run with fewer examples here (JAEGER_FUZZ_EXAMPLES, default 300 in the main run).
pytest_args=(-q -p no:cacheprovider -m "not slow and not timing" --ignore=tests/test_bench_smoke.py
    --ignore=tests/test_reporter_exit.py)
export JAEGER_FUZZ_EXAMPLES="${JAEGER_FUZZ_EXAMPLES:-50}"
read -r -a extra_args <<< "${MATRIX_PYTEST_ARGS:-}"

find_python() {  # find_python VERSION: print a working pythonVERSION
    local version=$1 candidate
    # pyenv has a shim for every version, which fails unless that version is selected
    for candidate in "python$version" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
        if "$candidate" -c pass > /dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    echo "test-matrix: no working python$version (PATH or pyenv)" >&2
    return 1
}

ensure_venv() {  # ensure_venv VERSION: .venv-VERSION with the package (editable) and its test extras
    local version=$1
    local venv=".venv-$version"
    local stamp="$venv/.installed"
    local python
    if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt setup.py ]; then
        return 0
    fi
    python=$(find_python "$version") || return 1
    rm -rf "$venv"
    "$python" -m venv "$venv" &&
        "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip &&
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[$MATRIX_EXTRAS]" &&
        touch "$stamp"
}

run_leg() {  # run_leg LEG: 0 if its tests pass
    local leg=$1
    local started=$SECONDS
    echo "=== test-matrix: $leg ==="
    case "$leg" in
        nofast)
            # the main venv, with thrift.protocol.fastbinary unimportable in every process
            # (the codecs never touch Thrift: their property suite is left out here)
            PYTHONPATH="$PWD/scripts/no-fastbinary${PYTHONPATH:+:$PYTHONPATH}" .venv/bin/python -c \
                'import sys, jaeger_client._encode as e; sys.exit("fastbinary still importable" if e.HAS_FASTBINARY else 0)' &&
                PYTHONPATH="$PWD/scripts/no-fastbinary${PYTHONPATH:+:$PYTHONPATH}" \
                    .venv/bin/python -m pytest "${pytest_args[@]}" \
                    --ignore=tests/test_codecs_hostile.py "${extra_args[@]}"
            ;;
        *)
            [ -f ".venv-$leg/.installed" ] &&
                ".venv-$leg/bin/python" -m pytest "${pytest_args[@]}" "${extra_args[@]}"
            ;;
    esac
    local status=$?
    echo "=== test-matrix: $leg $([ $status -eq 0 ] && echo ok || echo "FAILED ($status)") in $((SECONDS - started))s ==="
    return $status
}

# Venvs one at a time (two editable installs at once would race on the tree's egg-info), then
# the legs at once: most of a leg's time is spent waiting on subprocesses and sockets.
for leg in "${legs[@]}"; do
    if [ "$leg" != nofast ]; then
        ensure_venv "$leg" || echo "test-matrix: could not build .venv-$leg" >&2
    fi
done
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
for leg in "${legs[@]}"; do
    if [ "${MATRIX_JOBS:-parallel}" = serial ]; then
        run_leg "$leg" > "$logs/$leg.log" 2>&1
        echo $? > "$logs/$leg.status"
        cat "$logs/$leg.log"
    else
        (run_leg "$leg" > "$logs/$leg.log" 2>&1; echo $? > "$logs/$leg.status") &
        pids+=($!)
    fi
done
if [ ${#pids[@]} -gt 0 ]; then
    wait "${pids[@]}"
    for leg in "${legs[@]}"; do
        cat "$logs/$leg.log"
    done
fi
failed=()
for leg in "${legs[@]}"; do
    [ "$(cat "$logs/$leg.status" 2> /dev/null)" = 0 ] || failed+=("$leg")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "test-matrix: failed legs: ${failed[*]}" >&2
    exit 1
fi
echo "test-matrix: all legs green (${legs[*]})"
