#!/bin/sh
# Installs changegate VERSION into DIR (default: $HOME/.cargo/bin).
#
#   sh ci/install.sh VERSION [REPOSITORY] [DIR]
#
# A release tag (v1.2.3) installs the release's prebuilt binary for this machine
# when the release has one: the archive is checked against the release's
# SHA256SUMS, and a missing or wrong checksum stops the install (it never falls
# back to something unchecked). A tag without a binary for this machine, and any
# other VERSION (a commit sha), is built from source with
# `cargo install --locked --git REPOSITORY --rev VERSION`.
#
# POSIX sh: GitHub's composite action and GitLab's template both run it, and
# tests/pipeline.rs runs it under bash and dash with stand-in curl and cargo.
set -eu

version=${1:-}
repository=${2:-https://github.com/changegate/changegate}
dir=${3:-"$HOME/.cargo/bin"}

if [ -z "$version" ]; then
  echo "error: give the changegate version to install (a release tag or a full commit sha)" >&2
  exit 1
fi

# The release target of this machine, as the release workflow names its archives.
target() {
  os=$(uname -s)
  arch=$(uname -m)
  case "$os/$arch" in
    Linux/x86_64) echo x86_64-unknown-linux-gnu ;;
    Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-gnu ;;
    Darwin/x86_64) echo x86_64-apple-darwin ;;
    Darwin/arm64 | Darwin/aarch64) echo aarch64-apple-darwin ;;
    MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64) echo x86_64-pc-windows-msvc ;;
    *) echo "" ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

from_source() {
  echo "changegate: building $version from source ($repository)" >&2
  # cargo install puts the binary in ROOT/bin.
  cargo install --locked --force --root "$(dirname "$dir")" \
    --git "$repository" --rev "$version" changegate
}

# Returns 0 when the release binary was installed, 1 when the release has none
# for this machine; exits on a bad checksum or a broken archive. It runs as an `if`
# condition, where `set -e` does not apply: every step checks its own status.
from_release() {
  target=$(target)
  if [ -z "$target" ]; then
    return 1
  fi
  archive="changegate-$version-$target.tar.gz"
  base="$repository/releases/download/$version"
  work=$(mktemp -d)
  if ! curl -fsSL --retry 3 -o "$work/$archive" "$base/$archive"; then
    rm -rf "$work"
    return 1
  fi
  if ! curl -fsSL --retry 3 -o "$work/SHA256SUMS" "$base/SHA256SUMS"; then
    echo "error: the release $version has $archive but no SHA256SUMS: not installed" >&2
    rm -rf "$work"
    exit 1
  fi
  want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS")
  have=$(sha256 "$work/$archive")
  if [ -z "$want" ] || [ "$want" != "$have" ]; then
    echo "error: $archive does not match the release's SHA256SUMS (want '${want:-none}', have $have): not installed" >&2
    rm -rf "$work"
    exit 1
  fi
  if ! tar -xzf "$work/$archive" -C "$work"; then
    echo "error: $archive is not a readable .tar.gz: not installed" >&2
    rm -rf "$work"
    exit 1
  fi
  binary=changegate
  case "$target" in *windows*) binary=changegate.exe ;; esac
  if [ ! -f "$work/$binary" ]; then
    echo "error: $archive holds no $binary: not installed" >&2
    rm -rf "$work"
    exit 1
  fi
  if ! { mkdir -p "$dir" && mv "$work/$binary" "$dir/$binary" && chmod +x "$dir/$binary"; }; then
    echo "error: cannot install into $dir" >&2
    rm -rf "$work"
    exit 1
  fi
  rm -rf "$work"
  echo "changegate: installed the $version release binary for $target" >&2
  return 0
}

case "$version" in
  v[0-9]*)
    if from_release; then
      exit 0
    fi
    echo "changegate: the release $version has no binary for this machine" >&2
    ;;
esac
from_source
