//! Money as integer fen (分), and rates as exact ten-thousandths.
//!
//! Files carry yuan with at most two decimals; inside, every amount is a whole
//! number of fen so that sums hold to the fen. A rate has at most four decimals, so
//! a product of a rate and an amount is an exact integer in 1/10000 fen, rounded
//! half up once (docs/settlement.md, "Money and rounding").

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// The largest amount a file may carry: ten trillion yuan, far above any budget,
/// low enough that sums of billions of claims stay inside `i64`.
const MAX_YUAN: i64 = 10_000_000_000_000;

/// An amount of money in fen (1 yuan = 100 fen). May be negative only as the
/// result of arithmetic (a difference); parsed amounts are never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);
    /// "No limit", for caps that are not set.
    pub const MAX: Fen = Fen(i64::MAX / 4);

    pub const fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }

    /// Parses a non-negative amount in yuan with at most two decimals: `1234`,
    /// `1234.5`, `1234.56`. Refuses signs, thousands separators, exponents and
    /// more than two decimals, each with a message that says which.
    pub fn parse_yuan(s: &str) -> Result<Fen, DomainError> {
        let t = s.trim();
        if t.is_empty() {
            crate::bail!("the amount is empty");
        }
        if t.starts_with('-') {
            crate::bail!("the amount {t:?} is negative; amounts must be 0 or more");
        }
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            crate::bail!("{t:?} is not an amount in yuan (write digits with an optional decimal point, like 1234.56)");
        }
        if t.ends_with('.') {
            crate::bail!("{t:?} ends with a decimal point; write 1234 or 1234.5");
        }
        if frac.len() > 2 {
            crate::bail!("the amount {t:?} has more than two decimals; money is kept to the fen (0.01 yuan)");
        }
        if int.len() > 14 {
            crate::bail!("the amount {t:?} is too large");
        }
        let yuan: i64 = int.parse().map_err(|_| DomainError::new(format!("{t:?} is not an amount")))?;
        if yuan > MAX_YUAN {
            crate::bail!("the amount {t:?} is too large");
        }
        let mut fen: i64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            let d = (b - b'0') as i64;
            fen += if i == 0 { d * 10 } else { d };
        }
        Ok(Fen(yuan * 100 + fen))
    }

    pub fn max0(self) -> Fen {
        Fen(self.0.max(0))
    }

    pub fn min(self, o: Fen) -> Fen {
        Fen(self.0.min(o.0))
    }

    pub fn max(self, o: Fen) -> Fen {
        Fen(self.0.max(o.0))
    }

    /// The amount in yuan as a float, for charts and statistics only, never for sums.
    pub fn as_yuan_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Fen {
    /// Yuan with two decimals: `1234.50`, `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        Fen(self.0 + o.0)
    }
}
impl Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        Fen(self.0 - o.0)
    }
}
impl AddAssign for Fen {
    fn add_assign(&mut self, o: Fen) {
        self.0 += o.0
    }
}
impl SubAssign for Fen {
    fn sub_assign(&mut self, o: Fen) {
        self.0 -= o.0
    }
}
impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

/// A rate in [0, 1] with at most four decimals, kept as ten-thousandths
/// (`0.85` is `Rate(8500)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rate(pub u32);

impl Rate {
    pub const ONE: Rate = Rate(10_000);
    pub const SCALE: i128 = 10_000;

    /// Parses `0.85`, `1`, `1.0`, `0.8575`; refuses values outside [0, 1] and more
    /// than four decimals.
    pub fn parse(s: &str) -> Result<Rate, DomainError> {
        let t = s.trim();
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            crate::bail!("{t:?} is not a rate (write a decimal between 0 and 1, like 0.85)");
        }
        if frac.len() > 4 {
            crate::bail!("the rate {t:?} has more than four decimals");
        }
        let i: u64 = int.parse().map_err(|_| DomainError::new(format!("the rate {t:?} is outside [0, 1]")))?;
        let mut f: u64 = 0;
        for k in 0..4 {
            f = f * 10 + frac.as_bytes().get(k).map(|b| (b - b'0') as u64).unwrap_or(0);
        }
        let v = i.saturating_mul(10_000).saturating_add(f);
        if v > 10_000 {
            crate::bail!("the rate {t:?} is outside [0, 1]");
        }
        Ok(Rate(v as u32))
    }

    /// From a float as found in a TOML file; refuses more than four decimals.
    pub fn from_f64(x: f64) -> Result<Rate, DomainError> {
        if !x.is_finite() || !(0.0..=1.0).contains(&x) {
            crate::bail!("the rate {x} is outside [0, 1]");
        }
        let scaled = x * 10_000.0;
        let r = scaled.round();
        if (scaled - r).abs() > 1e-6 {
            crate::bail!("the rate {x} has more than four decimals");
        }
        Ok(Rate(r as u32))
    }

    /// `round_half_up(self * amount)` to whole fen.
    pub fn apply(self, amount: Fen) -> Fen {
        Fen(round_scaled(self.0 as i128 * amount.0 as i128))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 10_000.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format!("{}.{:04}", self.0 / 10_000, self.0 % 10_000);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        f.write_str(s)
    }
}

/// Rounds a value in ten-thousandths of a fen half up to whole fen:
/// `floor(v / 10000 + 1/2)`, which rounds 0.5 up for any sign.
pub fn round_scaled(v: i128) -> i64 {
    (v + 5_000).div_euclid(10_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_yuan_amounts() {
        assert_eq!(Fen::parse_yuan("1234").unwrap(), Fen(123_400));
        assert_eq!(Fen::parse_yuan("1234.5").unwrap(), Fen(123_450));
        assert_eq!(Fen::parse_yuan(" 1234.56 ").unwrap(), Fen(123_456));
        assert_eq!(Fen::parse_yuan("0.01").unwrap(), Fen(1));
        assert_eq!(Fen::parse_yuan("0").unwrap(), Fen(0));
    }

    #[test]
    fn refuses_bad_amounts_with_reasons() {
        let e = Fen::parse_yuan("-3").unwrap_err().to_string();
        assert!(e.contains("negative"), "{e}");
        let e = Fen::parse_yuan("1.234").unwrap_err().to_string();
        assert!(e.contains("more than two decimals"), "{e}");
        for bad in ["", "abc", "1,234", "1e5", "1.", ".5", "+4", "¥12"] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad} accepted");
        }
        assert!(Fen::parse_yuan("99999999999999999999").is_err());
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Fen(123_450).to_string(), "1234.50");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(0).to_string(), "0.00");
    }

    #[test]
    fn rates_parse_and_round_half_up() {
        assert_eq!(Rate::parse("0.85").unwrap(), Rate(8500));
        assert_eq!(Rate::parse("1").unwrap(), Rate::ONE);
        assert!(Rate::parse("1.01").is_err());
        assert!(Rate::parse("0.12345").is_err());
        assert!(Rate::parse("-0.1").is_err());
        // The spec's worked example: 0.65 * 212.50 = 138.125 -> 138.13.
        assert_eq!(Rate(6500).apply(Fen(21_250)), Fen(13_813));
        // 0.6 * 6574.37 = 3944.622 -> 3944.62.
        assert_eq!(Rate(6000).apply(Fen(657_437)), Fen(394_462));
        assert_eq!(Rate::from_f64(0.85).unwrap(), Rate(8500));
        assert!(Rate::from_f64(0.00001).is_err());
        assert_eq!(Rate(8500).to_string(), "0.85");
        assert_eq!(Rate::ONE.to_string(), "1");
    }

    proptest! {
        #[test]
        fn yuan_round_trips(f in 0i64..1_000_000_000_000) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(f).to_string()).unwrap(), Fen(f));
        }

        #[test]
        fn rounding_is_within_half_a_fen(r in 0u32..=10_000, f in -1_000_000_000i64..1_000_000_000) {
            let exact = r as f64 * f as f64 / 10_000.0;
            let got = Rate(r).apply(Fen(f)).0 as f64;
            prop_assert!(got - exact <= 0.5 + 1e-6 && exact - got < 0.5 + 1e-6);
        }
    }
}
