//! Random streams and the few distributions the generator needs.
//!
//! Every unit (a county, a township, a village) draws from its own ChaCha stream
//! seeded from the run's seed, the unit's code and a purpose tag, so that a unit's
//! data does not depend on what was generated before it: the output is the same
//! whether units run in order or in parallel, and a county's data is the same in a
//! county run and in a province run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub type Stream = ChaCha8Rng;

/// What a stream is for; the tags keep the streams of one unit apart.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Purpose {
    Place = 1,
    Shape = 2,
    People = 3,
    Facilities = 4,
    Staff = 5,
    /// Redraws of a point that fell outside its region's outline.
    Inside = 6,
}

/// SplitMix64's finaliser: a good 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream of one unit and purpose.
pub fn stream(seed: u64, unit: u64, purpose: Purpose) -> Stream {
    let s =
        mix(mix(seed) ^ mix(unit.wrapping_mul(0x100_0000_01B3)) ^ (purpose as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    ChaCha8Rng::seed_from_u64(s)
}

/// A standard normal draw (Box-Muller; one of the pair is enough here).
pub fn normal(r: &mut Stream) -> f64 {
    let u1: f64 = 1.0 - r.gen::<f64>(); // (0, 1]
    let u2: f64 = r.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal draw with the given median and log-scale spread.
pub fn lognormal(r: &mut Stream, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(r)).exp()
}

/// A Poisson draw; the rates here are small (under 30), so Knuth's product method.
pub fn poisson(r: &mut Stream, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        // Normal approximation, never negative.
        return (lambda + lambda.sqrt() * normal(r)).round().max(0.0) as u32;
    }
    let l = (-lambda).exp();
    let mut k = 0;
    let mut prod: f64 = r.gen();
    while prod > l {
        k += 1;
        prod *= r.gen::<f64>();
    }
    k
}

/// An index drawn with the given weights.
pub fn weighted(r: &mut Stream, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = r.gen_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A point uniformly inside a disk of `radius` degrees around a centre, with the
/// longitude widened by the latitude so that the disk is round on the ground.
pub fn near(r: &mut Stream, lon: f64, lat: f64, radius: f64) -> (f64, f64) {
    let d = radius * r.gen::<f64>().sqrt();
    let a = r.gen::<f64>() * std::f64::consts::TAU;
    let x = lon + d * a.cos() / lat.to_radians().cos().max(0.3);
    let y = lat + d * a.sin();
    let x = x.clamp(crate::tables::LON.0, crate::tables::LON.1);
    let y = y.clamp(crate::tables::LAT.0, crate::tables::LAT.1);
    (round6(x), round6(y))
}

/// Rounded to six decimals (about 0.1 m), as files carry points.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, 341122, Purpose::People).gen();
        let b: u64 = stream(7, 341122, Purpose::People).gen();
        let c: u64 = stream(7, 341122, Purpose::Place).gen();
        let d: u64 = stream(8, 341122, Purpose::People).gen();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn distributions_have_their_means() {
        let mut r = stream(1, 1, Purpose::Shape);
        let n = 20_000;
        let m: f64 = (0..n).map(|_| poisson(&mut r, 2.5) as f64).sum::<f64>() / n as f64;
        assert!((m - 2.5).abs() < 0.08, "{m}");
        let mut v: Vec<f64> = (0..n).map(|_| lognormal(&mut r, 100.0, 0.8)).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let med = v[n / 2];
        assert!((med - 100.0).abs() < 5.0, "{med}");
        let counts = (0..n).fold([0u32; 3], |mut c, _| {
            c[weighted(&mut r, &[1, 2, 7])] += 1;
            c
        });
        assert!(counts[2] > counts[1] && counts[1] > counts[0], "{counts:?}");
    }
}
