//! The statistical division table (统计用区划代码) of the National Bureau of
//! Statistics as shipped in `data/divisions/`: four CSV files (provinces, cities,
//! areas, streets) read into [`Region`] records with 12-digit codes.
//!
//! This module owns the reading and checking of those four files and nothing else:
//! it takes their texts, so a caller may embed them (`include_str!`, as `synth`
//! does) or read them from a directory (as the importer does). Villages are not in
//! the table; they come from the registry or from the synthetic province.
//!
//! Every row is checked: the code has the digits of its level, the parent codes it
//! names agree with its own prefix and exist, and no code appears twice. The one
//! repetition the NBS table makes on purpose is accepted and dropped: a unit that
//! restates its parent (the "county" 441900 东莞市 under the city 4419 东莞市, or the
//! "street" 350527000 金门县 under the county 350527) has the parent's 12-digit code
//! and is the same unit; it is counted in [`Divisions::restated`].

use crate::{Region, RegionCode, RegionLevel};
use std::collections::HashMap;
use std::fmt;
use thiserror::Error;

/// The file names of the table, in the order [`Divisions::parse`] takes them.
pub const FILES: [&str; 4] = ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"];

/// A row of the division table that cannot be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct DivisionError {
    /// `provinces.csv`, `cities.csv`, `areas.csv` or `streets.csv`.
    pub file: &'static str,
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    /// The column at fault, where one is.
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for DivisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The whole table: every province, city, county and township, sorted by code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Divisions {
    regions: Vec<Region>,
    /// Rows that restated their parent unit and were dropped (see the module doc).
    pub restated: usize,
}

/// One file's level and the parent columns its rows carry, from the nearest up.
struct FileSpec {
    file: &'static str,
    level: RegionLevel,
    parents: &'static [(&'static str, RegionLevel)],
}

const SPECS: [FileSpec; 4] = [
    FileSpec { file: "provinces.csv", level: RegionLevel::Province, parents: &[] },
    FileSpec { file: "cities.csv", level: RegionLevel::City, parents: &[("provinceCode", RegionLevel::Province)] },
    FileSpec {
        file: "areas.csv",
        level: RegionLevel::County,
        parents: &[("cityCode", RegionLevel::City), ("provinceCode", RegionLevel::Province)],
    },
    FileSpec {
        file: "streets.csv",
        level: RegionLevel::Township,
        parents: &[
            ("areaCode", RegionLevel::County),
            ("cityCode", RegionLevel::City),
            ("provinceCode", RegionLevel::Province),
        ],
    },
];

impl Divisions {
    /// Reads the four files' texts (a leading byte-order mark is allowed).
    pub fn parse(provinces: &str, cities: &str, areas: &str, streets: &str) -> Result<Divisions, DivisionError> {
        let mut d = Divisions::default();
        // code -> index into `regions`, to check parents and duplicates while reading.
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for (spec, text) in SPECS.iter().zip([provinces, cities, areas, streets]) {
            d.read_file(spec, text, &mut seen)?;
        }
        d.regions.sort_by_key(|r| r.code);
        Ok(d)
    }

    /// Reads the four files from a directory (`data/divisions`).
    pub fn read_dir(dir: &std::path::Path) -> Result<Divisions, DivisionError> {
        let mut texts = Vec::with_capacity(4);
        for f in FILES {
            let p = dir.join(f);
            let bytes = std::fs::read(&p).map_err(|e| DivisionError {
                file: f,
                line: 0,
                column: None,
                reason: format!("cannot read {}: {e}", p.display()),
            })?;
            let t = String::from_utf8(bytes).map_err(|e| {
                let bad = crate::text::first_bad_utf8(e.as_bytes(), true).expect("not UTF-8");
                DivisionError {
                    file: f,
                    line: bad.line as usize,
                    column: None,
                    reason: format!(
                        "{} at column {} is not UTF-8 text; the table is read as UTF-8",
                        bad.describe(),
                        bad.column
                    ),
                }
            })?;
            texts.push(t);
        }
        Divisions::parse(&texts[0], &texts[1], &texts[2], &texts[3])
    }

    fn read_file(&mut self, spec: &FileSpec, text: &str, seen: &mut HashMap<u64, usize>) -> Result<(), DivisionError> {
        let file = spec.file;
        let err = |line: usize, column: Option<&str>, reason: String| DivisionError {
            file,
            line,
            column: column.map(str::to_string),
            reason,
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let header = rdr.headers().map_err(|e| err(1, None, format!("cannot read the header: {e}")))?.clone();
        let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let mut wanted = vec![("code", spec.level), ("name", spec.level)];
        wanted.extend(spec.parents.iter().copied());
        let mut at = Vec::with_capacity(wanted.len());
        for (name, _) in &wanted {
            match find(name) {
                Some(i) => at.push(i),
                None => return Err(err(1, Some(name), "the column is missing from the header".into())),
            }
        }
        for (i, row) in rdr.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| err(line, None, format!("not a CSV row: {e}")))?;
            let field = |k: usize| row.get(at[k]).unwrap_or("");
            let raw = field(0);
            let code = self::code_of(raw, spec.level).map_err(|r| err(line, Some("code"), r))?;
            let name = field(1);
            if name.is_empty() {
                return Err(err(line, Some("name"), "is empty".into()));
            }
            crate::text::check_name(name).map_err(|e| err(line, Some("name"), e.0))?;
            let mut parent_idx = None;
            for (k, (col, lvl)) in spec.parents.iter().enumerate() {
                let given = field(k + 2);
                if given.len() != lvl.digits() || !raw.starts_with(given) {
                    return Err(err(
                        line,
                        Some(col),
                        format!(
                            "{given:?} is not the {lvl} part of the code {raw} (expected {:?})",
                            &raw[..lvl.digits().min(raw.len())]
                        ),
                    ));
                }
                let pc = self::code_of(given, *lvl).map_err(|r| err(line, Some(col), r))?;
                match seen.get(&pc.as_u64()) {
                    Some(&j) if k == 0 => parent_idx = Some(j),
                    Some(_) => {}
                    None => {
                        return Err(err(line, Some(col), format!("the {lvl} {given} is not in the table")));
                    }
                }
            }
            if let Some(&j) = seen.get(&code.as_u64()) {
                if parent_idx == Some(j) {
                    // The unit restates its parent (东莞市 as a county of 东莞市).
                    self.restated += 1;
                    continue;
                }
                let other = &self.regions[j];
                return Err(err(
                    line,
                    Some("code"),
                    format!("{raw} repeats the code of {} {}", other.level, other.name),
                ));
            }
            seen.insert(code.as_u64(), self.regions.len());
            self.regions.push(Region {
                code,
                name: name.to_string(),
                level: spec.level,
                urban_rural: None,
                population: None,
                lon: None,
                lat: None,
            });
        }
        Ok(())
    }

    /// Every region, sorted by code (a parent before its children).
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn into_regions(self) -> Vec<Region> {
        self.regions
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The region of a code, if the table has it.
    pub fn get(&self, code: RegionCode) -> Option<&Region> {
        self.regions.binary_search_by_key(&code, |r| r.code).ok().map(|i| &self.regions[i])
    }

    /// The region and everything under it, as one contiguous run of the sorted table
    /// (a unit's descendants share its prefix, so they sort right after it).
    pub fn within(&self, code: RegionCode) -> &[Region] {
        let span = 10u64.pow(12 - code.level().digits() as u32);
        let lo = self.regions.partition_point(|r| r.code < code);
        let hi = self.regions.partition_point(|r| r.code.as_u64() < code.as_u64() + span);
        &self.regions[lo..hi]
    }

    /// The regions of one level under a code (the counties of a province, say).
    pub fn under(&self, code: RegionCode, level: RegionLevel) -> impl Iterator<Item = &Region> {
        self.within(code).iter().filter(move |r| r.level == level)
    }

    /// The regions whose nearest enclosing unit is `code`.
    pub fn children(&self, code: RegionCode) -> impl Iterator<Item = &Region> {
        self.within(code).iter().filter(move |r| r.code != code && r.code.parent() == Some(code))
    }

    /// How many regions of a level the table holds.
    pub fn count(&self, level: RegionLevel) -> usize {
        self.regions.iter().filter(|r| r.level == level).count()
    }
}

/// A table code (2, 4, 6 or 9 digits as the level wants) as a 12-digit code.
fn code_of(raw: &str, level: RegionLevel) -> Result<RegionCode, String> {
    if raw.len() != level.digits() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{raw:?} is not a {level} code ({} digits)", level.digits()));
    }
    RegionCode::parse(raw).map_err(|e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "code,name\n34,\"安徽省\"\n44,\"广东省\"\n";
    const C: &str = "code,name,provinceCode\n3411,\"滁州市\",34\n4419,\"东莞市\",44\n";
    const A: &str = "code,name,cityCode,provinceCode\n341122,\"来安县\",3411,34\n441900,\"东莞市\",4419,44\n";
    const S: &str = "code,name,areaCode,provinceCode,cityCode\n\
        341122100,\"新安镇\",341122,34,3411\n\
        341122101,\"半塔镇\",341122,34,3411\n\
        441900003,\"东城街道\",441900,44,4419\n";

    fn c(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn reads_a_small_table() {
        let d = Divisions::parse(P, C, A, S).unwrap();
        // 2 provinces, 2 cities, 1 county (东莞 restates its city), 3 townships
        assert_eq!(d.len(), 8);
        assert_eq!(d.restated, 1);
        assert_eq!(d.count(RegionLevel::County), 1);
        let t = d.get(c("341122101")).unwrap();
        assert_eq!(t.name, "半塔镇");
        assert_eq!(t.level, RegionLevel::Township);
        assert_eq!(t.code.to_string(), "341122101000");
        assert_eq!(d.within(c("34")).len(), 5);
        assert_eq!(d.under(c("34"), RegionLevel::Township).count(), 2);
        let kids: Vec<_> = d.children(c("4419")).map(|r| r.name.as_str()).collect();
        assert_eq!(kids, ["东城街道"]);
        assert!(d.regions().windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn a_bom_and_extra_columns_are_fine() {
        let p = "\u{feff}code,name,extra\n34,安徽省,x\n";
        let d = Divisions::parse(
            p,
            "code,name,provinceCode\n",
            "code,name,cityCode,provinceCode\n",
            "code,name,areaCode,provinceCode,cityCode\n",
        )
        .unwrap();
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn bad_rows_say_file_line_and_column() {
        let e = Divisions::parse(P, C, A, "code,name,areaCode,provinceCode,cityCode\n341122100,新安镇,341122,34,3411\n34112210,半塔镇,341122,34,3411\n").unwrap_err();
        assert_eq!((e.file, e.line, e.column.as_deref()), ("streets.csv", 3, Some("code")));
        assert!(e.to_string().starts_with("streets.csv line 3, column code:"), "{e}");

        let e =
            Divisions::parse(P, C, A, "code,name,areaCode,provinceCode,cityCode\n341123100,新安镇,341123,34,3411\n")
                .unwrap_err();
        assert_eq!(e.column.as_deref(), Some("areaCode"));
        assert!(e.reason.contains("not in the table"), "{e}");

        let e =
            Divisions::parse(P, C, A, "code,name,areaCode,provinceCode,cityCode\n341122100,新安镇,341122,35,3411\n")
                .unwrap_err();
        assert_eq!(e.column.as_deref(), Some("provinceCode"));

        let e = Divisions::parse(P, "code,name\n3411,滁州市\n", A, S).unwrap_err();
        assert_eq!((e.file, e.line, e.column.as_deref()), ("cities.csv", 1, Some("provinceCode")));

        let e = Divisions::parse("code,name\n34,安徽省\n34,安徽\n", C, A, S).unwrap_err();
        assert!(e.reason.contains("repeats"), "{e}");

        let e = Divisions::parse("code,name\n34,\n", C, A, S).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("name"));
    }

    #[test]
    fn the_shipped_table_loads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/divisions");
        let d = Divisions::read_dir(&dir).unwrap();
        assert_eq!(d.count(RegionLevel::Province), 31);
        assert_eq!(d.count(RegionLevel::City), 342);
        // 2,978 rows, three of which (东莞, 中山, 儋州) restate their city
        assert_eq!(d.count(RegionLevel::County), 2_975);
        // 41,352 rows, one of which (金门县) restates its county
        assert_eq!(d.count(RegionLevel::Township), 41_351);
        assert_eq!(d.restated, 4);
        let t = d.get(c("341122100")).unwrap();
        assert_eq!(t.code.parent().unwrap().short(), "341122");
        assert!(d.get(c("441900003")).is_some());
        // every unit's parent is in the table
        for r in d.regions() {
            if let Some(p) = r.code.parent() {
                assert!(d.get(p).is_some(), "{} {} has no parent {}", r.code, r.name, p);
            }
        }
    }
}
