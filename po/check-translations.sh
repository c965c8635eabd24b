#!/bin/sh
# Fails when a language of LINGUAS lacks a translation (untranslated or fuzzy) of a string
# the sources hold now, or has a bad format string: extracts the strings as
# `ninja lpt-studio-pot` does (xgettext over POTFILES, meson's glib preset), merges each .po
# with them in a temporary folder and asks msgfmt. Usage: check-translations.sh SOURCE_ROOT
set -eu
cd "$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xgettext --files-from=po/POTFILES --directory=. --output="$tmp/lpt-studio.pot" \
  --from-code=UTF-8 --add-comments --no-location \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2 \
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format
status=0
for lang in $(grep -v '^#' po/LINGUAS); do
  msgmerge --quiet --output-file="$tmp/$lang.po" "po/$lang.po" "$tmp/lpt-studio.pot"
  stats=$(msgfmt --check --statistics --output-file=/dev/null "$tmp/$lang.po" 2>&1) || status=1
  echo "$lang: $stats"
  case "$stats" in *untranslated* | *fuzzy*) status=1 ;; esac
done
exit $status
