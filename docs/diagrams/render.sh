#!/usr/bin/env bash
# Draws every docs/diagrams/*.mmd as docs/images/<name>.svg, so that the site shows its
# diagrams without loading mermaid.js from a CDN. Run it after editing a diagram:
#
#     docs/diagrams/render.sh
#
# Needs Node.js (npx) and a Chromium or Chrome; CHROMIUM=/path/to/browser picks one.
# The Mermaid CLI is pinned so that the SVGs only change when a diagram does.
set -euo pipefail
cd "$(dirname "$0")/../.."

MERMAID_CLI="@mermaid-js/mermaid-cli@11.17.0"
PUPPETEER="puppeteer@24.43.1"
browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
if [[ -z "$browser" ]]; then
    echo "render.sh: no Chromium found; set CHROMIUM=/path/to/chromium" >&2
    exit 1
fi
export PUPPETEER_EXECUTABLE_PATH="$browser" PUPPETEER_SKIP_DOWNLOAD=1

for source in docs/diagrams/*.mmd; do
    target="docs/images/$(basename "${source%.mmd}").svg"
    npx -y -p "$MERMAID_CLI" -p "$PUPPETEER" mmdc -q -i "$source" -o "$target" \
        -c docs/diagrams/mermaid.json -p docs/diagrams/puppeteer.json -b white
    # An opaque background (readable on the dark scheme too), and text that an <img> shows:
    # labels drawn in HTML (<foreignObject>) stay blank there.
    python3 - "$target" <<'PY'
import re
import sys

path = sys.argv[1]
svg = open(path, encoding="utf-8").read()
if "<foreignObject" in svg:
    sys.exit(f"{path}: labels in <foreignObject> do not render in an <img>")
x, y, width, height = re.search(r'viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"', svg).groups()
background = f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#ffffff"/>'
svg = re.sub(r"(<svg\b[^>]*>)", lambda m: m.group(1) + background, svg, count=1)
open(path, "w", encoding="utf-8").write(svg.rstrip() + "\n")
PY
    echo "$source -> $target"
done
