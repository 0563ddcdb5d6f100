#!/bin/sh
# Validates the HTML part of a sample digest with the Nu HTML checker (vnu).
#
# Needs Java 17+ and npm; vnu-jar is installed under target/vnu (ignored by
# git), once. Not part of `cargo test`, so the test suite never needs Java.
#
#   scripts/check-digest-html.sh
#
# Renders the sample with the ignored test `write_sample_for_html_validation`
# (three new calls, one extended call with hostile text and a javascript:
# link) to target/digest-sample.html, then runs vnu with warnings shown.
# Exits non-zero on any error or warning.
set -eu
cd "$(dirname "$0")/.."

jar=target/vnu/node_modules/vnu-jar/build/dist/vnu.jar
if [ ! -f "$jar" ]; then
    mkdir -p target/vnu
    (cd target/vnu && npm install --no-audit --no-fund --ignore-scripts vnu-jar)
fi

cargo test --lib digest::render::tests::write_sample_for_html_validation -- --ignored --exact
java -jar "$jar" --show-warnings --Werror target/digest-sample.html
echo "vnu: target/digest-sample.html is valid HTML (no errors, no warnings)"
