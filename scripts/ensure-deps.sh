#!/usr/bin/env bash
# Installs what Gantry needs and is missing: npm dependencies, the services' bundles (dist/), then nats-server and redis-server
# from the distribution's packages. Safe to run every time; does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/@grpc/grpc-js-xds ] || [ ! -d protos/generated ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "gantry: installing npm dependencies" >&2
  npm ci --no-audit --no-fund >&2
fi
# The services' JavaScript bundles (dist/, made at install): rebuilt when missing or older than the sources.
node scripts/build.mjs --if-stale >&2
missing=()
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "gantry: installing ${missing[*]} from the distribution's packages" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "gantry: ${missing[*]} not found and apt-get is not available; install them and re-run" >&2
    exit 1
  fi
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
      echo "gantry: ${missing[*]} not found; run as root or install them with: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  "${sudo_cmd[@]}" apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >&2 || {
    echo "gantry: could not install ${missing[*]}; install them by hand (apt-get install ${missing[*]})" >&2
    exit 1
  }
fi
