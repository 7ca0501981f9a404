#!/bin/sh
# web/vendor.sh: copies Firebase Auth's browser ES modules (firebase-app.js, firebase-auth.js of the npm package firebase 12.x) into DEST for tradepulsed to serve under /assets/vendor/, pointing their import at each other instead of www.gstatic.com.
#
# Usage: web/vendor.sh FIREBASE_PACKAGE_DIR DEST_DIR
# The package's root files are the CDN builds: firebase-auth.js imports
# "https://www.gstatic.com/firebasejs/VERSION/firebase-app.js"; that import
# becomes "./firebase-app.js", so the page loads nothing from another host
# (script-src 'self'). Fails, leaving DEST without the files, when the package
# is not a firebase 12.x or an import other than that one remains.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 FIREBASE_PACKAGE_DIR DEST_DIR" >&2; exit 2; }
src=$1
dest=$2
for f in package.json firebase-app.js firebase-auth.js; do
	[ -f "$src/$f" ] || { echo "$0: $src/$f: not found (npm install firebase@12)" >&2; exit 1; }
done
version=$(sed -n 's/^  "version": "\([0-9][0-9.]*\)".*/\1/p' "$src/package.json")
case $version in
12.*) ;;
*) echo "$0: $src is firebase ${version:-of no version}; 12.x is needed" >&2; exit 1 ;;
esac
mkdir -p "$dest"
tmp=$dest/.vendor.$$
trap 'rm -f "$tmp"' EXIT
# The source map comments name files not copied: dropped.
sed -e '/^\/\/# sourceMappingURL=/d' "$src/firebase-app.js" >"$tmp"
mv -f "$tmp" "$dest/firebase-app.js"
sed -e "s#\"https://www\.gstatic\.com/firebasejs/$version/firebase-app\.js\"#\"./firebase-app.js\"#g" \
    -e '/^\/\/# sourceMappingURL=/d' "$src/firebase-auth.js" >"$tmp"
# Every static import must now be relative: from"./firebase-app.js" only.
if grep -Eo '(from|import) ?"[^"]*"' "$tmp" | grep -Ev '"\./firebase-app\.js"$' >&2 ||
    ! grep -q 'from"\./firebase-app\.js"' "$tmp"; then
	echo "$0: firebase-auth.js $version imports something other than ./firebase-app.js" >&2
	rm -f "$dest/firebase-app.js"
	exit 1
fi
mv -f "$tmp" "$dest/firebase-auth.js"
printf '%s\n' "$version" >"$dest/VERSION.txt"
chmod 644 "$dest/firebase-app.js" "$dest/firebase-auth.js" "$dest/VERSION.txt"
