#!/usr/bin/env bash
# The whole test suite: type check, then every test file under test/ with Node's test runner.
# Node 20's runner expands no globs and finds no .ts files, so the files are listed here.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p .
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
