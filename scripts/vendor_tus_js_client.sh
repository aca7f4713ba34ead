#!/usr/bin/env bash
# vendor_tus_js_client.sh VERSION — refreshes web/static/vendor/tus-js-client/
# from the npm registry: the package's built browser bundle (dist/tus.min.js)
# and its licence, byte for byte, and prints the integrity and sha256 that
# belong in that directory's README.md.  Only for maintainers updating the
# pinned version; the product itself never runs npm.
set -euo pipefail
ver=${1:?usage: vendor_tus_js_client.sh VERSION}
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/web/static/vendor/tus-js-client"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "tus-js-client@$ver" --silent >/dev/null && tar xzf "tus-js-client-$ver.tgz")
cp "$tmp/package/dist/tus.min.js" "$dest/tus.min.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE.txt"
echo "integrity: $(npm view "tus-js-client@$ver" dist.integrity)"
echo "sha256 tus.min.js: $(sha256sum "$dest/tus.min.js" | cut -d' ' -f1)"
