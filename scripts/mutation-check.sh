#!/usr/bin/env bash
# Mutation check: does the test suite catch plausible bugs? Applies each mutation listed in
# tests/mutations/ to a copy of the source, one at a time, rebuilds incrementally, runs the test
# that should kill it and prints the kill rate. Not part of `make test` (a rebuild per mutation).
#
#   scripts/mutation-check.sh [--full] [NAME...]   # every mutation, or the named ones
#   scripts/mutation-check.sh --list               # mutations and the tests that kill them
#
# Mutation files (tests/mutations/NAME.sed or NAME.patch) start with '#' header lines:
#   # <what the bug is, one line>
#   # file: src/path/to/file.cpp                   (.sed only: the file the script edits)
#   # kills: CTEST_NAME | CATCH TEST SPEC          (the ctest entry and, for Catch files, the test
#                                                   case -- an exact name or a name* prefix;
#                                                   no commas -- that must fail)
# A .sed file's other lines are a sed script (sed reads the headers as comments); a .patch file's
# are a unified diff against the repository root (patch -p1, no fuzz). A mutation that changes
# nothing or does not apply is reported, never counted as killed.
#
# Each mutation is killed when its named test fails on the mutated build (crash and timeout
# included), checked against the unmutated build first, where it must exist and pass. --full also
# runs the whole ctest suite on every mutant and lists every entry that fails.
# The copy and its build live in build-mutation/ (MUTATION_DIR): only files changed since the last
# run are copied, so rebuilds are incremental (a mutant whose test is a Catch case rebuilds only
# pfode_tests). The source copy is restored after each mutation, also on Ctrl-C.
# JOBS (default 2) and MUTATION_TIMEOUT (seconds per test run, default 900).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MUTATIONS=$ROOT/tests/mutations
WORK=${MUTATION_DIR:-$ROOT/build-mutation}
SRC=$WORK/source
BUILD=$WORK/build
LOGS=$WORK/logs
JOBS=${JOBS:-2}
TIMEOUT=${MUTATION_TIMEOUT:-900}

full=0
list=0
names=()
for arg in "$@"; do
  case $arg in
    --full) full=1 ;;
    --list) list=1 ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutation-check: unknown option $arg" >&2; exit 2 ;;
    *) names+=("$arg") ;;
  esac
done

header() {  # header KEY FILE: the value of '# KEY: value'
  sed -n "s/^# $1: *//p" "$2" | head -n 1
}
mutation_file() {  # the .sed or .patch file of a mutation name
  for ext in sed patch; do
    if [ -f "$MUTATIONS/$1.$ext" ]; then echo "$MUTATIONS/$1.$ext"; return; fi
  done
  echo "mutation-check: no mutation named '$1' in tests/mutations" >&2
  exit 2
}

if [ ${#names[@]} -eq 0 ]; then
  for f in "$MUTATIONS"/*.sed "$MUTATIONS"/*.patch; do
    [ -e "$f" ] && names+=("$(basename "${f%.*}")")
  done
fi
files=()
for name in "${names[@]}"; do files+=("$(mutation_file "$name")"); done
for f in "${files[@]}"; do
  kills=$(header kills "$f")
  if [ -z "$kills" ] || { [ "${f##*.}" = sed ] && [ -z "$(header file "$f")" ]; }; then
    echo "mutation-check: $f lacks its '# kills:' (or, for .sed, '# file:') header" >&2
    exit 2
  fi
  if [[ $kills == *,* ]]; then  # Catch reads a comma as 'or': name the case by a prefix*
    echo "mutation-check: $f: the test case in '# kills:' has a comma; use a prefix ending in *" >&2
    exit 2
  fi
done

if [ $list -eq 1 ]; then
  for f in "${files[@]}"; do
    printf '%-36s %s\n    %s\n' "$(basename "${f%.*}")" "$(header kills "$f")" "$(sed -n '1s/^# //p' "$f")"
  done
  exit 0
fi

# --- the source copy -------------------------------------------------------------------------
# Files of the copy a mutation changed, and their unmutated text in $WORK/original (the copy is
# restored from there, not from the repository, which may change while the check runs).
mutated=()
restore() {
  for rel in "${mutated[@]+"${mutated[@]}"}"; do
    cp "$WORK/original/$rel" "$SRC/$rel"  # a fresh mtime: the next build recompiles it
  done
  mutated=()
}
remember() {  # remember REL: keep the copy's unmutated text of REL before it is changed
  mkdir -p "$(dirname "$WORK/original/$1")"
  cp "$SRC/$1" "$WORK/original/$1"
  mutated+=("$1")
}
trap 'restore' EXIT
trap 'restore; echo; echo "mutation-check: interrupted, source copy restored" >&2; exit 130' INT TERM

sync_source() {
  mkdir -p "$SRC" "$LOGS"
  local listing=$WORK/files.txt
  (cd "$ROOT" && git ls-files -co --exclude-standard) > "$listing"
  while IFS= read -r rel; do
    [ -f "$ROOT/$rel" ] || continue
    if ! cmp -s "$ROOT/$rel" "$SRC/$rel" 2> /dev/null; then
      mkdir -p "$(dirname "$SRC/$rel")"
      cp "$ROOT/$rel" "$SRC/$rel"
    fi
  done < "$listing"
  # Files gone from the repository go from the copy (CMake globs the sources).
  (cd "$SRC" && find . -type f | sed 's|^\./||') | sort > "$WORK/copy.txt"
  sort "$listing" | comm -23 "$WORK/copy.txt" - | while IFS= read -r rel; do rm -f "$SRC/$rel"; done
}

build() {  # build LOG [TARGET]: everything, or only TARGET
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release > "$1" 2>&1 || return 1
  fi
  cmake --build "$BUILD" -j "$JOBS" ${2:+--target "$2"} >> "$1" 2>&1
}
target_of() {  # the build target a mutant needs: the Catch binary alone when its killer is in it
  if [[ $1 == *"|"* && $full -eq 0 ]]; then echo pfode_tests; fi
}

# run_killer KILLS LOG: exit status of the named test (0: it passed)
run_killer() {
  local ctest_name=${1%%|*} spec=""
  ctest_name=$(echo "$ctest_name" | xargs)
  [[ $1 == *"|"* ]] && spec=$(echo "${1#*|}" | sed 's/^ *//; s/ *$//')
  if [ -n "$spec" ]; then
    (cd "$BUILD/tests" && timeout "$TIMEOUT" ./pfode_tests "$spec") > "$2" 2>&1
  else
    (cd "$BUILD" && timeout "$TIMEOUT" ctest -R "^${ctest_name}\$" --output-on-failure) > "$2" 2>&1
  fi
}

killer_exists() {  # the named Catch test case is in the binary (a spec matching nothing "fails")
  [[ $1 == *"|"* ]] || return 0
  local spec
  spec=$(echo "${1#*|}" | sed 's/^ *//; s/ *$//')
  [ -n "$("$BUILD/tests/pfode_tests" --list-test-names-only "$spec" 2> /dev/null | sed '/^$/d')" ]
}

apply() {  # apply FILE: mutate the copy; fails (message on stderr) when it does not apply
  local f=$1 rel
  if [ "${f##*.}" = sed ]; then
    rel=$(header file "$f")
    [ -f "$SRC/$rel" ] || { echo "no file $rel" >&2; return 1; }
    remember "$rel"
    sed -i -f "$f" "$SRC/$rel"
    if cmp -s "$WORK/original/$rel" "$SRC/$rel"; then echo "no line of $rel matched" >&2; return 1; fi
  else
    for rel in $(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$f"); do
      [ -f "$SRC/$rel" ] || { echo "no file $rel" >&2; return 1; }
      remember "$rel"
    done
    patch -p1 -d "$SRC" -F 0 --no-backup-if-mismatch --silent < "$f" > /dev/null || {
      echo "patch does not apply" >&2
      return 1
    }
  fi
}

# --- baseline --------------------------------------------------------------------------------
start_all=$(date +%s)
echo "mutation-check: syncing the source copy in ${WORK#$ROOT/} and building it unmutated"
sync_source
build "$LOGS/baseline-build.log" || { echo "mutation-check: the unmutated build fails ($LOGS/baseline-build.log)" >&2; exit 1; }
declare -A checked=()
for f in "${files[@]}"; do
  kills=$(header kills "$f")
  [ -n "${checked[$kills]+x}" ] && continue
  checked[$kills]=1
  if ! killer_exists "$kills"; then
    echo "mutation-check: $(basename "$f"): no test case matches '$kills'" >&2
    exit 1
  fi
  if ! run_killer "$kills" "$LOGS/baseline-test.log"; then
    echo "mutation-check: '$kills' fails without any mutation ($LOGS/baseline-test.log)" >&2
    exit 1
  fi
done
if [ $full -eq 1 ]; then
  (cd "$BUILD" && ctest -j "$JOBS" > "$LOGS/baseline-ctest.log" 2>&1) ||
    { echo "mutation-check: the unmutated suite fails ($LOGS/baseline-ctest.log)" >&2; exit 1; }
fi
echo "mutation-check: baseline passes ($(($(date +%s) - start_all)) s); ${#files[@]} mutations"

# --- mutants ---------------------------------------------------------------------------------
killed=0
for f in "${files[@]}"; do
  name=$(basename "${f%.*}")
  kills=$(header kills "$f")
  t0=$(date +%s)
  log=$LOGS/$name
  others=""
  if ! apply "$f" 2> "$log.apply.log"; then  # not in a subshell: `mutated` must reach restore
    verdict="NOT APPLIED: $(cat "$log.apply.log")"
  elif ! build "$log.build.log" "$(target_of "$kills")"; then
    verdict="BUILD FAILS: ${log#$ROOT/}.build.log"
  else
    set +e
    run_killer "$kills" "$log.test.log"
    rc=$?
    set -e
    if [ $rc -eq 0 ]; then
      verdict="SURVIVED"
    else
      verdict="killed"
      [ $rc -eq 124 ] && verdict="killed (timeout)"
      killed=$((killed + 1))
    fi
    if [ $full -eq 1 ]; then
      (cd "$BUILD" && ctest -j "$JOBS" > "$log.ctest.log" 2>&1) || true
      others=$(sed -n 's/^ *[0-9]* - \([^ ]*\) (.*/\1/p' "$log.ctest.log" | tr '\n' ' ')
      others="    ctest entries failing: ${others:-none}"
    fi
  fi
  restore
  printf '%-36s %-16s %5ss  by %s\n' "$name" "$verdict" "$(($(date +%s) - t0))" "$kills"
  [ -n "$others" ] && echo "$others"
done

echo
echo "mutation-check: ${#files[@]} mutations, $killed killed by their test: kill rate" \
  "$((100 * killed / ${#files[@]}))% ($(($(date +%s) - start_all)) s)"
[ "$killed" -eq "${#files[@]}" ]
