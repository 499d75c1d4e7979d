#!/usr/bin/env bash
# A schema-driven run of /api/v1 (issue 20): schemathesis, pinned, generates
# requests from the served OpenAPI document (/api/v1/openapi.json) and checks the
# answers against it, once with an API token of each role. It passes when no
# answer is a 5xx and every answer conforms to the document.
#
#   bench/api_schema.sh [--examples N] [--seed S] [--roles "administrator officer ..."] [--dir D]
#
# What it does, on 127.0.0.1 only:
#   1. builds the binary (debug) and, once, a virtual environment with
#      schemathesis under $CARGO_TARGET_DIR/schemathesis-venv;
#   2. fills a SQLite store with the small demo (`safetynet demo --scale small
#      --no-serve`: a synthetic county 341122 with its claims settled, alerts
#      raised and a township's cases worked) in D (default
#      $CARGO_TARGET_DIR/api-schema);
#   3. serves it on a free loopback port with an administrator of the whole
#      country, and makes (bench/api_schema_tokens.py) one user and one API token
#      per role: administrator (the whole country), officer, clerk, analyst and
#      viewer of the county 341122, village doctor of one of its villages;
#   4. runs schemathesis against the served document with each token in turn.
#
# Checks: every one schemathesis has (`--checks all`) but these, and why:
#   - positive_data_acceptance: it expects a 2xx for any input the schema allows,
#     but most valid-looking input names records that do not exist (404), lie
#     outside the token's scope (404 by design, SECURITY.md) or are refused by
#     the role (403) or by a rule the schema cannot state (409 conflict, 422 a
#     claim of an unknown person); such answers are documented, not failures;
#   - use_after_free and ensure_resource_availability: they need links between
#     operations, which the document does not declare (no stateful phase).
# Kept: not_a_server_error, status_code_conformance, content_type_conformance,
# response_headers_conformance, response_schema_conformance,
# negative_data_rejection (input outside the schema must be a 4xx),
# missing_required_header, unsupported_method and allow_header_conformance (a
# method the path lacks must be a 405 with Allow), ignored_auth (a request
# without the token must be a 401), object_level_authorization.
#
# Operations: all of the document's. One runs apart, last: POST /tokens/{id}/revoke.
# schemathesis reuses identifiers it reads in answers, so it takes the running
# token's ID from GET /tokens and revokes it, after which every request answers
# 401 and nothing more is tested. The revocation therefore runs on its own after
# the rest, with the same checks. POST /tokens answers 403 to a token (tokens are
# made from a session), as documented. The writes change the throwaway store only.
#
# The figures of a run are in BENCHMARKS.md, "Issue 20: schema-driven API run".
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
SCHEMATHESIS_VERSION=4.32.5
examples=25
seed=20
roles="administrator officer clerk analyst viewer village_doctor"
dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --examples) examples="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --roles) roles="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
dir="${dir:-$CARGO_TARGET_DIR/api-schema}"
started=$(date +%s)

echo "== build"
cargo build -q -p safetynet
bin="$CARGO_TARGET_DIR/debug/safetynet"
venv="$CARGO_TARGET_DIR/schemathesis-venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/schemathesis" --version

echo "== the store: the small demo in $dir"
rm -rf "$dir"
mkdir -p "$dir"
"$bin" demo --dir "$dir" --scale small --no-serve > "$dir/demo.log"
db="$dir/safetynet.db"
[ -f "$db" ] || db=$(ls "$dir"/*.db | head -1)
county=341122
village=$(awk -F, -v c="$county" '$3 == "village" && index($1, c) == 1 { print $1; exit }' "$dir/regions.csv")
[ -n "$village" ] || { echo "no village of $county in $dir/regions.csv" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_password="Admin-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
"$bin" --db "$db" serve --addr "127.0.0.1:$port" --create-admin "admin:$admin_password" > "$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "$base/healthz" > /dev/null && break
  sleep 0.2
done
curl -sf "$base/healthz" > /dev/null || { cat "$dir/serve.log" >&2; exit 1; }

echo "== users and tokens"
args=()
for role in $roles; do
  case "$role" in
    administrator) args+=("administrator=") ;;
    village_doctor) args+=("village_doctor=$village") ;;
    *) args+=("$role=$county") ;;
  esac
done
python3 bench/api_schema_tokens.py "$base" admin "$admin_password" "${args[@]}" > "$dir/tokens.txt"
cut -d' ' -f1 "$dir/tokens.txt" | tr '\n' ' '; echo

failed=0
summary=()
for role in $roles; do
  token=$(awk -v r="$role" '$1 == r { print $2 }' "$dir/tokens.txt")
  echo "== schemathesis as $role ($examples examples per operation, seed $seed)"
  t=$(date +%s)
  rc=0
  for part in main revoke; do
    if [ "$part" = main ]; then select=(--exclude-operation-id revokeToken); else select=(--include-operation-id revokeToken); fi
    "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
      --url "$base/api/v1" \
      -H "Authorization: Bearer $token" \
      "${select[@]}" \
      --checks all \
      --exclude-checks positive_data_acceptance,use_after_free,ensure_resource_availability \
      --phases examples,coverage,fuzzing \
      --max-examples "$examples" \
      --seed "$seed" \
      --generation-database none \
      --workers 2 \
      --request-timeout 60 \
      --max-response-time 60 \
      --no-color \
      --report junit --report-dir "$dir/report-$role-$part" \
      > "$dir/schemathesis-$role-$part.log" 2>&1 || rc=$?
  done
  sed -n '/^=* SUMMARY/,$p' "$dir/schemathesis-$role-main.log" | grep -v "^$"
  grep -h "^=.* in [0-9.]*s =*$" "$dir/schemathesis-$role-revoke.log" || true
  summary+=("$role: exit $rc, $(( $(date +%s) - t )) s")
  [ "$rc" -eq 0 ] || failed=1
done

echo "== summary (logs and JUnit reports in $dir)"
printf '%s\n' "${summary[@]}"
grep -c ' 5[0-9][0-9] ' "$dir/serve.log" > /dev/null && echo "server log lines with a 5xx: $(grep -c ' 5[0-9][0-9] ' "$dir/serve.log")" || true
echo "total $(( $(date +%s) - started )) s"
exit "$failed"
