#!/usr/bin/env bash
# Install the Debian packages a feature needs when they are missing: pdf (WeasyPrint's Pango and a
# font), browser (Chromium for the browser tests), gettext (the catalogues). As root with apt-get
# they are installed; otherwise the missing ones are named, and the script fails only with --strict.
set -euo pipefail

strict=0
need=()
for feature in "$@"; do
  case "$feature" in
    --strict) strict=1 ;;
    pdf)
      libraries="$(ldconfig -p 2>/dev/null || true)"
      [[ "$libraries" == *libpangoft2-1.0* ]] || need+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
      [ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
      ;;
    browser) [ -x /usr/bin/chromium ] || need+=(chromium) ;;
    gettext) command -v xgettext >/dev/null 2>&1 || need+=(gettext) ;;
    *) echo "unknown feature: $feature" >&2; exit 2 ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi
echo "Missing system packages: ${need[*]} (install them with your package manager)." >&2
[ "$strict" = 1 ] && exit 1
exit 0
