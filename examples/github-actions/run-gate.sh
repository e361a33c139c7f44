#!/usr/bin/env bash
# The chaos gate's commands, in one place: the GitHub Actions workflow (chaos.yml)
# calls this script, and so does the project's own test that runs the workflow's
# steps locally.
#
#   run-gate.sh toxiproxy-container   start Shopify's Toxiproxy in Docker, host network
#   run-gate.sh wait-toxiproxy        wait until $TOXIPROXY_URL answers (30 s at most)
#   run-gate.sh gate PROFILE [DIR]    run the app's gate tests under PROFILE; reports in DIR
#
# With TOXIPROXY_URL set, the harness uses that Toxiproxy (backend "external");
# without it, it picks one itself (backend "auto": binary, Docker or embedded).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
image=${TOXIPROXY_IMAGE:-ghcr.io/shopify/toxiproxy:2.12.0}
tests=${GATE_TESTS:-examples/resilient_app/tests}

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

case "${1:-}" in
toxiproxy-container)
    # host network: Toxiproxy's proxies must reach the harness's gateway, which
    # listens on 127.0.0.1 (a service container's bridge network cannot)
    docker run -d --rm --name llm-chaos-toxiproxy --network host "$image" \
        -host 127.0.0.1 -port "${TOXIPROXY_PORT:-8474}"
    ;;
wait-toxiproxy)
    : "${TOXIPROXY_URL:?set TOXIPROXY_URL, e.g. http://127.0.0.1:8474}"
    python3 - "$TOXIPROXY_URL" <<'PY'
import json, sys, time, urllib.request
url = sys.argv[1].rstrip("/") + "/version"
deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            text = answer.read().decode().strip()
            try:
                text = json.loads(text)["version"]  # 2.x answers {"version": ...}
            except (ValueError, KeyError, TypeError):
                pass
            print(f"toxiproxy {text} at {sys.argv[1]}")
            break
    except OSError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"no Toxiproxy at {url} after 30 s: {exc}")
        time.sleep(0.5)
PY
    ;;
gate)
    profile=${2:?usage: run-gate.sh gate PROFILE [REPORT_DIR]}
    reports=${3:-chaos-reports/$profile}
    backend=auto
    [ -n "${TOXIPROXY_URL:-}" ] && backend=external
    cd "$root"
    llm-chaos run --profile "$profile" --backend "$backend" --timeout 600 \
        --report "$reports" \
        -- python -m pytest "$tests" -m gate -p no:cacheprovider -q
    ;;
*)
    usage
    ;;
esac
