//! The 832 national poverty counties (国家级贫困县) and the year each was announced
//! as lifted out of poverty (脱贫摘帽), as shipped in `data/poverty_counties.csv`
//! (its source is in `data/README.md`). Reports split these counties from the
//! rest; a county keeps its place on the list after its exit year, since the
//! programme follows the formerly poor counties through the transition period.

use crate::error::DomainError;
use crate::region::{RegionCode, RegionLevel};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The shipped list.
pub const POVERTY_COUNTIES_CSV: &str = include_str!("../../../data/poverty_counties.csv");

/// Listed codes that are not in the 2022 division table, each with the code the
/// same county has there (matched by name in `divisions/areas.csv`: the county
/// became a city, or the unit was renumbered).
const RENUMBERED: [(u64, u64); 5] =
    [(532600, 532601), (540422, 540481), (540530, 540581), (622900, 622901), (632825, 632857)];

/// A listed county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PovertyCounty {
    /// The county's code in the division table, 12 digits.
    pub code: RegionCode,
    pub name: String,
    /// The year it was announced as lifted out of poverty.
    pub exit_year: i32,
}

/// The list, by county code.
#[derive(Debug, Clone, Default)]
pub struct PovertyCounties {
    by_code: HashMap<RegionCode, PovertyCounty>,
}

impl PovertyCounties {
    /// The shipped list, parsed once.
    pub fn shipped() -> &'static PovertyCounties {
        static LIST: OnceLock<PovertyCounties> = OnceLock::new();
        LIST.get_or_init(|| PovertyCounties::from_csv(POVERTY_COUNTIES_CSV).expect("the shipped list parses"))
    }

    /// Reads a list with the columns `code` (6 digits), `name_listed` and
    /// `exit_year`; other columns are ignored.
    pub fn from_csv(text: &str) -> Result<PovertyCounties, DomainError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = rdr.headers().map_err(|e| DomainError::new(format!("poverty counties header: {e}")))?.clone();
        let idx = |name: &str| headers.iter().position(|h| h == name);
        let (Some(code), Some(name), Some(exit)) = (idx("code"), idx("name_listed"), idx("exit_year")) else {
            crate::bail!("the poverty counties need the columns code, name_listed and exit_year");
        };
        let mut by_code = HashMap::new();
        for (i, row) in rdr.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| DomainError::new(format!("poverty counties line {line}: {e}")))?;
            let field = |c: usize| row.get(c).unwrap_or("");
            let listed: u64 = match field(code).parse() {
                Ok(v) if (110000..=829999).contains(&v) => v,
                _ => crate::bail!("poverty counties line {line}: code {:?} is not a 6-digit county code", field(code)),
            };
            let six = RENUMBERED.iter().find(|(from, _)| *from == listed).map(|(_, to)| *to).unwrap_or(listed);
            let county = RegionCode::from_u64(six * 1_000_000)
                .map_err(|e| DomainError::new(format!("poverty counties line {line}: code {six}: {e}")))?;
            if county.level() != RegionLevel::County {
                crate::bail!("poverty counties line {line}: code {six} is not a county");
            }
            let exit_year = match field(exit).parse::<i32>() {
                Ok(y) if (2014..=2021).contains(&y) => y,
                _ => {
                    crate::bail!("poverty counties line {line}: exit_year {:?} is not a year 2014 to 2021", field(exit))
                }
            };
            let entry = PovertyCounty { code: county, name: field(name).to_string(), exit_year };
            if by_code.insert(county, entry).is_some() {
                crate::bail!("poverty counties line {line}: the county {six} is listed twice");
            }
        }
        Ok(PovertyCounties { by_code })
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// The listed county a region lies in (a county, township or village), if any.
    pub fn county_of(&self, region: RegionCode) -> Option<&PovertyCounty> {
        self.by_code.get(&region.ancestor(RegionLevel::County)?)
    }

    /// Whether a region lies in a listed county.
    pub fn contains(&self, region: RegionCode) -> bool {
        self.county_of(region).is_some()
    }
}

/// Which counties a report keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CountyGroup {
    /// Every county.
    #[default]
    All,
    /// The national poverty counties (原国家级贫困县), whatever their exit year.
    Poverty,
    /// The counties not on the list.
    Other,
}

impl CountyGroup {
    /// Whether a region (a village, or any region at or below county level) is
    /// kept; a region above county level is kept by `All` only.
    pub fn keeps(self, region: RegionCode) -> bool {
        match self {
            CountyGroup::All => true,
            CountyGroup::Poverty => PovertyCounties::shipped().contains(region),
            CountyGroup::Other => {
                region.ancestor(RegionLevel::County).is_some() && !PovertyCounties::shipped().contains(region)
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CountyGroup::All => "all",
            CountyGroup::Poverty => "poverty",
            CountyGroup::Other => "other",
        }
    }
}

impl std::str::FromStr for CountyGroup {
    type Err = String;
    fn from_str(s: &str) -> Result<CountyGroup, String> {
        match s.trim() {
            "" | "all" => Ok(CountyGroup::All),
            "poverty" | "贫困县" => Ok(CountyGroup::Poverty),
            "other" => Ok(CountyGroup::Other),
            other => Err(format!("counties {other:?}: expected all, poverty or other")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn the_shipped_list_has_832_counties_with_their_exit_years() {
        let list = PovertyCounties::shipped();
        assert_eq!(list.len(), 832);
        let mut by_year: std::collections::BTreeMap<i32, usize> = Default::default();
        for c in list.by_code.values() {
            *by_year.entry(c.exit_year).or_default() += 1;
        }
        assert_eq!(
            by_year.into_iter().collect::<Vec<_>>(),
            [(2016, 28), (2017, 125), (2018, 282), (2019, 345), (2020, 52)]
        );
        // 行唐县, lifted in 2018; a village of it is inside.
        assert_eq!(list.county_of(code("130125")).map(|c| c.exit_year), Some(2018));
        assert!(list.contains(code("130125100201")));
        // A renumbered county is found under its code in the division table.
        assert_eq!(list.county_of(code("532601")).map(|c| c.name.as_str()), Some("文山市"));
        assert!(!list.contains(code("532600")));
        // Not listed: 来安县 (341122); a province is no county.
        assert!(!list.contains(code("341122100201")));
        assert!(!list.contains(code("13")));
    }

    #[test]
    fn groups_split_the_counties() {
        let poor = code("130125100201");
        let other = code("341122100201");
        assert!(CountyGroup::All.keeps(poor) && CountyGroup::All.keeps(other));
        assert!(CountyGroup::Poverty.keeps(poor) && !CountyGroup::Poverty.keeps(other));
        assert!(!CountyGroup::Other.keeps(poor) && CountyGroup::Other.keeps(other));
        assert_eq!("poverty".parse::<CountyGroup>(), Ok(CountyGroup::Poverty));
        assert!("poor".parse::<CountyGroup>().is_err());
    }

    #[test]
    fn bad_lists_are_refused_with_the_line() {
        let e = PovertyCounties::from_csv("code,name_listed,exit_year\n130125,A,2018\n130125,B,2019\n").unwrap_err();
        assert!(e.to_string().contains("line 3") && e.to_string().contains("twice"), "{e}");
        let e = PovertyCounties::from_csv("code,name_listed,exit_year\n1301,A,2018\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = PovertyCounties::from_csv("code,name_listed,exit_year\n130125,A,1990\n").unwrap_err();
        assert!(e.to_string().contains("exit_year"), "{e}");
    }
}
