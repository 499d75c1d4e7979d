//! Distances on the earth, the straight-line travel model, and a grid index that
//! finds the nearest of hundreds of thousands of points in microseconds.

/// The earth's mean radius in kilometres (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in kilometres between two points given as (longitude,
/// latitude) in degrees, by the haversine formula.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (l1, p1) = (a.0.to_radians(), a.1.to_radians());
    let (l2, p2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l2 - l1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Travel time without a road network: the straight-line distance lengthened by a
/// detour factor, covered at an average speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TravelModel {
    /// Road distance over straight-line distance (1.3).
    pub detour: f64,
    /// Average speed in km/h (30).
    pub speed_kmh: f64,
}

impl Default for TravelModel {
    fn default() -> Self {
        TravelModel { detour: 1.3, speed_kmh: 30.0 }
    }
}

impl TravelModel {
    pub fn validate(&self) -> Result<(), crate::CoverageError> {
        if !(1.0..=5.0).contains(&self.detour) {
            return Err(crate::CoverageError::Setting {
                name: "detour",
                value: self.detour.to_string(),
                why: "a detour factor is 1 to 5".into(),
            });
        }
        if !(self.speed_kmh > 0.0 && self.speed_kmh <= 200.0) {
            return Err(crate::CoverageError::Setting {
                name: "speed_kmh",
                value: self.speed_kmh.to_string(),
                why: "a speed is above 0 and at most 200 km/h".into(),
            });
        }
        Ok(())
    }

    /// Minutes to cover a straight-line distance of `km`.
    pub fn minutes_for_km(&self, km: f64) -> f64 {
        km * self.detour / self.speed_kmh * 60.0
    }

    /// Minutes between two points.
    pub fn minutes(&self, a: (f64, f64), b: (f64, f64)) -> f64 {
        self.minutes_for_km(haversine_km(a, b))
    }

    /// The straight-line distance covered in `minutes`.
    pub fn km_for_minutes(&self, minutes: f64) -> f64 {
        minutes / 60.0 * self.speed_kmh / self.detour
    }
}

/// Points bucketed into a uniform grid of longitude-latitude cells, the cells'
/// contents in one array (compressed rows), for nearest-neighbour and radius
/// queries. A uniform grid suits settlements, which are spread fairly evenly at
/// the scale of a cell, and it builds in one counting sort.
#[derive(Debug, Clone)]
pub struct PointIndex {
    lon0: f64,
    lat0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
    pts: Vec<(f64, f64)>,
    max_abs_lat: f64,
}

impl PointIndex {
    /// Indexes the points; a query answers with a point's position in `points`.
    pub fn new(points: Vec<(f64, f64)>) -> PointIndex {
        let n = points.len();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        let mut max_abs_lat: f64 = 0.0;
        for &(x, y) in &points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
            max_abs_lat = max_abs_lat.max(y.abs());
        }
        if n == 0 {
            (x0, x1, y0, y1) = (0.0, 0.0, 0.0, 0.0);
        }
        // About two points per cell; never finer than ~100 m, never more than 4M cells.
        let area = ((x1 - x0) * (y1 - y0)).max(1e-6);
        let mut cell = (area / (n.max(1) as f64 / 2.0)).sqrt().max(0.001);
        while ((x1 - x0) / cell + 1.0) * ((y1 - y0) / cell + 1.0) > 4.0e6 {
            cell *= 1.5;
        }
        let nx = ((x1 - x0) / cell) as usize + 1;
        let ny = ((y1 - y0) / cell) as usize + 1;
        let mut idx = PointIndex {
            lon0: x0,
            lat0: y0,
            cell,
            nx,
            ny,
            start: vec![0; nx * ny + 1],
            items: vec![0; n],
            pts: points,
            max_abs_lat,
        };
        let cells: Vec<usize> = idx.pts.iter().map(|&(x, y)| idx.cell_of(x, y)).collect();
        for &c in &cells {
            idx.start[c + 1] += 1;
        }
        for i in 0..nx * ny {
            idx.start[i + 1] += idx.start[i];
        }
        let mut fill = idx.start.clone();
        for (i, &c) in cells.iter().enumerate() {
            idx.items[fill[c] as usize] = i as u32;
            fill[c] += 1;
        }
        idx
    }

    pub fn len(&self) -> usize {
        self.pts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }

    pub fn point(&self, i: u32) -> (f64, f64) {
        self.pts[i as usize]
    }

    fn cxy(&self, x: f64, y: f64) -> (usize, usize) {
        let cx = ((x - self.lon0) / self.cell).floor().clamp(0.0, (self.nx - 1) as f64) as usize;
        let cy = ((y - self.lat0) / self.cell).floor().clamp(0.0, (self.ny - 1) as f64) as usize;
        (cx, cy)
    }

    fn cell_of(&self, x: f64, y: f64) -> usize {
        let (cx, cy) = self.cxy(x, y);
        cy * self.nx + cx
    }

    /// A lower bound on the distance from the query to any point outside the
    /// block of cells within Chebyshev ring `r` of the query's cell: such a point
    /// differs from the query by more than `r` cells in latitude or longitude,
    /// and by the haversine formula `sin(θ/2) >= cos φmax · sin(Δλ/2)`.
    fn ring_bound_km(&self, r: usize, cos_max: f64) -> f64 {
        let d = (r as f64 * self.cell).to_radians();
        let lat_bound = d;
        let lon_bound = 2.0 * (cos_max * (d.min(std::f64::consts::PI) / 2.0).sin()).min(1.0).asin();
        EARTH_RADIUS_KM * lat_bound.min(lon_bound)
    }

    /// Visits the points of the cells at Chebyshev distance exactly `r`.
    fn ring(&self, cx: usize, cy: usize, r: usize, mut visit: impl FnMut(u32)) {
        let (x0, x1) = (cx as i64 - r as i64, cx as i64 + r as i64);
        let (y0, y1) = (cy as i64 - r as i64, cy as i64 + r as i64);
        for y in y0.max(0)..=y1.min(self.ny as i64 - 1) {
            let edge_row = y == y0 || y == y1;
            let mut x = x0.max(0);
            while x <= x1.min(self.nx as i64 - 1) {
                if edge_row || x == x0 || x == x1 {
                    let c = y as usize * self.nx + x as usize;
                    for &i in &self.items[self.start[c] as usize..self.start[c + 1] as usize] {
                        visit(i);
                    }
                    x += 1;
                } else {
                    // Interior of the block: jump to the right edge.
                    x = x1;
                }
            }
        }
    }

    /// The nearest point and its distance in km; `None` when the index is empty.
    pub fn nearest(&self, q: (f64, f64)) -> Option<(u32, f64)> {
        self.nearest_where(q, |_| true)
    }

    /// The nearest point that passes `keep`, and its distance in km.
    pub fn nearest_where(&self, q: (f64, f64), keep: impl Fn(u32) -> bool) -> Option<(u32, f64)> {
        if self.pts.is_empty() {
            return None;
        }
        let cos_max = self.max_abs_lat.max(q.1.abs()).min(89.9).to_radians().cos();
        let (cx, cy) = self.cxy(q.0, q.1);
        let mut best: Option<(u32, f64)> = None;
        let rmax = self.nx.max(self.ny);
        for r in 0..=rmax {
            self.ring(cx, cy, r, |i| {
                if keep(i) {
                    let d = haversine_km(q, self.pts[i as usize]);
                    if best.is_none_or(|(bi, bd)| d < bd || (d == bd && i < bi)) {
                        best = Some((i, d));
                    }
                }
            });
            if let Some((_, bd)) = best {
                if bd <= self.ring_bound_km(r, cos_max) {
                    break;
                }
            }
        }
        best
    }

    /// Every point within `radius_km` of the query, as (position, km), in no
    /// particular order, appended to `out`.
    pub fn within(&self, q: (f64, f64), radius_km: f64, out: &mut Vec<(u32, f64)>) {
        if self.pts.is_empty() {
            return;
        }
        let cos_max = self.max_abs_lat.max(q.1.abs()).min(89.9).to_radians().cos();
        let (cx, cy) = self.cxy(q.0, q.1);
        let rmax = self.nx.max(self.ny);
        for r in 0..=rmax {
            self.ring(cx, cy, r, |i| {
                let d = haversine_km(q, self.pts[i as usize]);
                if d <= radius_km {
                    out.push((i, d));
                }
            });
            if self.ring_bound_km(r, cos_max) > radius_km {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_matches_hand_computed_cases() {
        // One degree of latitude along a meridian: R·π/180 = 111.195 km.
        let d = haversine_km((116.0, 39.0), (116.0, 40.0));
        assert!((d - 111.1951).abs() < 1e-3, "{d}");
        // One degree of longitude on the equator is the same arc.
        assert!((haversine_km((100.0, 0.0), (101.0, 0.0)) - 111.1951).abs() < 1e-3);
        // One degree of longitude at 60° N: 2R·asin(cos 60°·sin 0.5°) = 55.5970 km.
        let d = haversine_km((10.0, 60.0), (11.0, 60.0));
        assert!((d - 55.5970).abs() < 1e-3, "{d}");
        // Beijing (116.4074, 39.9042) to Shanghai (121.4737, 31.2304): about 1067 km.
        let d = haversine_km((116.4074, 39.9042), (121.4737, 31.2304));
        assert!((d - 1067.3).abs() < 1.0, "{d}");
        assert_eq!(haversine_km((120.0, 30.0), (120.0, 30.0)), 0.0);
    }

    #[test]
    fn travel_model_minutes() {
        let m = TravelModel::default();
        // 10 km straight: 13 km of road at 30 km/h = 26 minutes.
        assert!((m.minutes_for_km(10.0) - 26.0).abs() < 1e-9);
        // 0.1° of latitude = 11.11951 km -> 14.455 km -> 28.911 minutes.
        let t = m.minutes((110.0, 30.0), (110.0, 30.1));
        assert!((t - 28.9107).abs() < 1e-3, "{t}");
        assert!((m.km_for_minutes(26.0) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn nearest_agrees_with_brute_force() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let pts: Vec<(f64, f64)> =
            (0..3000).map(|_| (rng.gen_range(100.0..110.0), rng.gen_range(20.0..45.0))).collect();
        let idx = PointIndex::new(pts.clone());
        for _ in 0..500 {
            let q = (rng.gen_range(95.0..115.0), rng.gen_range(15.0..50.0));
            let (i, d) = idx.nearest(q).unwrap();
            let bd = pts.iter().map(|&p| haversine_km(q, p)).fold(f64::MAX, f64::min);
            assert!((d - bd).abs() < 1e-9, "{q:?}: got {i} at {d}, best {bd}");
            let mut w = Vec::new();
            idx.within(q, 150.0, &mut w);
            let want = pts.iter().filter(|&&p| haversine_km(q, p) <= 150.0).count();
            assert_eq!(w.len(), want);
        }
        assert!(PointIndex::new(vec![]).nearest((100.0, 30.0)).is_none());
    }
}
