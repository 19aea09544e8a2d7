#!/bin/sh
# Installs the Debian packages pfode needs to build, test and plot, skipping those already present.
set -eu

PACKAGES="build-essential cmake pkg-config git procps
libtrilinos-kokkos-dev libhdf5-dev hdf5-tools libboost-program-options-dev catch2
libopenmpi-dev openmpi-bin
python3-numpy python3-h5py python3-matplotlib python3-scipy"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "pfode: installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
