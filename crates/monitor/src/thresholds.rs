//! Thresholds per region and year, picked by the longest region-code prefix of a
//! village given for the year (docs/monitoring.md, "Inputs").

use domain::{Fen, RegionCode, Threshold};
use std::collections::HashMap;

/// The prefix lengths a threshold's region may have, longest first.
const PREFIX_LENGTHS: [u32; 5] = [12, 9, 6, 4, 2];

/// The thresholds of all regions and years, indexed for prefix lookup.
#[derive(Debug, Clone, Default)]
pub struct ThresholdTable {
    /// (year, prefix length, prefix as a number) -> (rural_income, monitoring_line).
    by_prefix: HashMap<(i32, u32, u64), (Fen, Fen, usize)>,
    source: Vec<Threshold>,
}

/// The threshold a household got, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub rural_income: Fen,
    pub monitoring_line: Fen,
    /// Index of the threshold in the list the table was built from.
    pub index: usize,
}

impl ThresholdTable {
    /// Builds the table. A region given twice for one year keeps its last entry, as
    /// a re-import of the same key would.
    pub fn new(thresholds: &[Threshold]) -> ThresholdTable {
        let mut by_prefix = HashMap::with_capacity(thresholds.len());
        for (i, t) in thresholds.iter().enumerate() {
            let len = t.region.len() as u32;
            let Ok(v) = t.region.parse::<u64>() else {
                continue;
            };
            by_prefix.insert((t.year, len, v), (t.rural_income, t.monitoring_line, i));
        }
        ThresholdTable { by_prefix, source: thresholds.to_vec() }
    }

    /// The threshold of the longest prefix of `village` given for `year`.
    pub fn find(&self, village: RegionCode, year: i32) -> Option<Applied> {
        let code = village.as_u64();
        PREFIX_LENGTHS.iter().find_map(|&len| {
            let prefix = code / 10u64.pow(12 - len);
            self.by_prefix.get(&(year, len, prefix)).map(|&(rural_income, monitoring_line, index)| Applied {
                rural_income,
                monitoring_line,
                index,
            })
        })
    }

    /// The threshold records the table was built from.
    pub fn source(&self) -> &[Threshold] {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(region: &str, year: i32, rural: i64) -> Threshold {
        Threshold {
            region: region.into(),
            year,
            rural_income: Fen::from_yuan(rural),
            monitoring_line: Fen::from_yuan(7000),
        }
    }

    #[test]
    fn longest_prefix_wins_and_years_do_not_mix() {
        let table = ThresholdTable::new(&[t("34", 2024, 19575), t("341122", 2024, 16800), t("3411", 2023, 1)]);
        let inside = RegionCode::parse("341122100201").unwrap();
        let other_county = RegionCode::parse("341125100201").unwrap();
        let other_province = RegionCode::parse("351122100201").unwrap();
        assert_eq!(table.find(inside, 2024).unwrap().rural_income, Fen::from_yuan(16800));
        assert_eq!(table.find(other_county, 2024).unwrap().rural_income, Fen::from_yuan(19575));
        assert_eq!(table.find(other_province, 2024), None);
        assert_eq!(table.find(inside, 2023).unwrap().rural_income, Fen::from_yuan(1));
        assert_eq!(table.find(inside, 2022), None);
    }

    #[test]
    fn whole_village_and_township_codes_count_as_prefixes() {
        let table = ThresholdTable::new(&[t("34", 2024, 1), t("341122100", 2024, 2), t("341122100201", 2024, 3)]);
        assert_eq!(
            table.find(RegionCode::parse("341122100201").unwrap(), 2024).unwrap().rural_income,
            Fen::from_yuan(3)
        );
        assert_eq!(
            table.find(RegionCode::parse("341122100202").unwrap(), 2024).unwrap().rural_income,
            Fen::from_yuan(2)
        );
    }
}
