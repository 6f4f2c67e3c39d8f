#!/usr/bin/env bash
# Dependency vulnerability audit of the installed environment with pip-audit (in a tool venv of its
# own, so its dependencies never mix with the project's). Fails on any known vulnerability. Where the
# vulnerability service cannot be reached (a closed network), pip-audit skips packages instead of
# auditing them: that is reported loudly rather than passed off as a clean result.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=var/tools
[[ -x $tools/bin/pip-audit ]] || { python3 -m venv "$tools" && "$tools/bin/pip" install --quiet pip-audit; }
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
out=$(mktemp)
status=0
"$tools/bin/pip-audit" --path "$site" --vulnerability-service pypi --progress-spinner off >"$out" 2>&1 || status=$?
cat "$out"
skipped=$(grep -c "could not be audited" "$out" || true)
if (( status != 0 )); then
  echo "dependency audit: known vulnerabilities (or an audit error) above" >&2
  exit "$status"
fi
if (( skipped > 0 )); then
  echo "dependency audit: WARNING: $skipped packages could not be audited (vulnerability data unreachable from this network)"
fi
