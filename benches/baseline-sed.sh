#!/usr/bin/env bash
# The CnosDB 2.3 -> 2.4.0 meta conversion done the way an operator would script it with sed/grep:
# the bar `cnosdb-migrate transform --target 2.4.0` is measured against (benches/run-hyperfine.sh).
#
#   benches/baseline-sed.sh IN OUT
#
# IN is a 2.3 `/debug` body (banner lines, `* KEY: VALUE`) or a plain `/dump` body (`KEY: VALUE`).
# Steps (shared/research/meta-format.md §5.3, §6.1 "v2.4.0"):
#   1. strip the /debug frame: drop the `******…******` banners, strip the leading `* `;
#   2. grep -v the keys 2.4 must not get: /data_version, /already_init_key, /test_alive,
#      /{c}/auto_incr_id, /{c}/data_nodes/*, /{c}/data_nodes_metrics/*, …/dbs/{db}/buckets/*,
#      /{c}/resourceinfos* ;
#   3. sed the three 2.4.0 patches:
#      tenant   /{c}/tenants/{t}       options gains ,"tenant_is_hidden":false (before `}}` at the end)
#      database /{c}/tenants/{t}/dbs/{db} config gains ,"db_is_hidden":false  (before `}}` at the end)
#      user     /{c}/users/{u}         "password": -> "hash_password":
# What it does NOT do (the reason the real tool exists): no validation, no hashing of plaintext
# passwords, no root/system-DB/orphan-member handling, no CRLF normalisation, no 2.4.1+ rules.
#
# LC_ALL=C: byte semantics (the input is UTF-8 but every pattern is ASCII) and GNU sed/grep's
# fast path; in a UTF-8 locale (the default of most operators' shells) the same pipeline is
# markedly slower: BASELINE_LOCALE=C.UTF-8 measures that.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 IN OUT" >&2
    exit 2
fi
in=$1
out=$2
export LC_ALL=${BASELINE_LOCALE:-C}

sed -e '/^\*\*\*\*\*\*/d' -e 's/^\* //' -- "$in" \
| { grep -v -E \
      -e '^/(data_version|already_init_key|test_alive): ' \
      -e '^/[^/]+/auto_incr_id: ' \
      -e '^/[^/]+/(data_nodes|data_nodes_metrics)/' \
      -e '^/[^/]+/resourceinfos' \
      -e '^/[^/]+/tenants/[^/]+/dbs/[^/]+/buckets/' \
    || [ $? -eq 1 ]; } \
| sed -E \
      -e '/^\/[^/]+\/tenants\/[^/]+: /s/\}\}$/,"tenant_is_hidden":false}}/' \
      -e '/^\/[^/]+\/tenants\/[^/]+\/dbs\/[^/]+: /s/\}\}$/,"db_is_hidden":false}}/' \
      -e '/^\/[^/]+\/users\/[^/]+: /s/"password":/"hash_password":/' \
  > "$out"
