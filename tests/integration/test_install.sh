#!/bin/sh
# `cmake --install BUILD --prefix DIR` puts a pfode that runs into DIR/bin, so it can be on PATH.
# Usage: test_install.sh CMAKE_COMMAND BUILD_DIR
set -eu
cmake=$1
build=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
"$cmake" --install "$build" --prefix "$prefix" > /dev/null
[ -x "$prefix/bin/pfode" ] || { echo "cmake --install put no pfode in $prefix/bin"; exit 1; }
[ "$(PATH="$prefix/bin:$PATH" command -v pfode)" = "$prefix/bin/pfode" ] || { echo "pfode is not found on PATH"; exit 1; }
PATH="$prefix/bin:$PATH" pfode --version
PATH="$prefix/bin:$PATH" pfode list | grep -q '^ *unipc-3' || { echo "the installed pfode lists no unipc-3"; exit 1; }
