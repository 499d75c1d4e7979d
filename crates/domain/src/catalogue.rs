//! Disease catalogues: the serious diseases for special centralised treatment
//! (大病专项救治病种) and the chronic diseases managed under family-doctor
//! contracts, each disease a set of ICD-10 code prefixes.

use crate::DomainError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    pub name_zh: String,
    pub name_en: String,
    pub icd10_prefixes: Vec<String>,
    /// The year the disease joined the list; `None` for "always".
    pub since: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub entries: Vec<CatalogueEntry>,
}

/// The national serious-disease list as shipped in `data/`.
pub const SERIOUS_CSV: &str = include_str!("../../../data/serious_diseases.csv");
/// The chronic-disease list as shipped in `data/`.
pub const CHRONIC_CSV: &str = include_str!("../../../data/chronic_diseases.csv");

impl Catalogue {
    /// Parses the catalogue CSV (`name_zh, name_en, icd10_prefixes[, since]`).
    pub fn from_csv(text: &str) -> Result<Catalogue, DomainError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = rdr.headers().map_err(|e| DomainError::new(format!("catalogue header: {e}")))?.clone();
        let idx = |name: &str| headers.iter().position(|h| h == name);
        let (Some(zh), Some(en), Some(px)) = (idx("name_zh"), idx("name_en"), idx("icd10_prefixes")) else {
            crate::bail!("a catalogue needs the columns name_zh, name_en and icd10_prefixes");
        };
        let since = idx("since");
        let mut entries = Vec::new();
        for (i, row) in rdr.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| DomainError::new(format!("catalogue line {line}: {e}")))?;
            let prefixes: Vec<String> = row
                .get(px)
                .unwrap_or("")
                .split(';')
                .map(|s| s.trim().to_ascii_uppercase())
                .filter(|s| !s.is_empty())
                .collect();
            if prefixes.is_empty() {
                crate::bail!("catalogue line {line}: no ICD-10 prefixes");
            }
            let since = match since.and_then(|c| row.get(c)).map(str::trim) {
                None | Some("") => None,
                Some(s) => Some(
                    crate::records::parse_year(s)
                        .map_err(|e| DomainError::new(format!("catalogue line {line}: {e}")))?,
                ),
            };
            entries.push(CatalogueEntry {
                name_zh: row.get(zh).unwrap_or("").to_string(),
                name_en: row.get(en).unwrap_or("").to_string(),
                icd10_prefixes: prefixes,
                since,
            });
        }
        Ok(Catalogue { entries })
    }

    pub fn serious() -> Catalogue {
        Catalogue::from_csv(SERIOUS_CSV).expect("the shipped serious-disease catalogue parses")
    }

    pub fn chronic() -> Catalogue {
        Catalogue::from_csv(CHRONIC_CSV).expect("the shipped chronic-disease catalogue parses")
    }

    /// The entry whose prefix the code starts with, among those listed by `year`.
    pub fn find(&self, code: &str, year: i32) -> Option<&CatalogueEntry> {
        let code = code.trim();
        if code.is_empty() {
            return None;
        }
        self.entries.iter().find(|e| {
            e.since.map(|s| s <= year).unwrap_or(true)
                && e.icd10_prefixes.iter().any(|p| code.len() >= p.len() && code[..p.len()].eq_ignore_ascii_case(p))
        })
    }

    /// The position in `entries` of the entry `find` answers.
    pub fn position(&self, code: &str, year: i32) -> Option<usize> {
        let e = self.find(code, year)?;
        self.entries.iter().position(|x| std::ptr::eq(x, e))
    }

    /// Every prefix of the catalogue, for fast matching.
    pub fn prefixes(&self) -> impl Iterator<Item = (&str, &CatalogueEntry)> {
        self.entries.iter().flat_map(|e| e.icd10_prefixes.iter().map(move |p| (p.as_str(), e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogues_load_and_match() {
        let s = Catalogue::serious();
        assert!(s.entries.len() >= 30, "{}", s.entries.len());
        assert_eq!(s.find("C16.9", 2024).unwrap().name_en, "stomach cancer");
        assert!(s.find("J18", 2024).is_none());
        let c = Catalogue::chronic();
        assert_eq!(c.find("I10", 2024).unwrap().name_en, "hypertension");
        assert!(c.find("", 2024).is_none());
    }

    #[test]
    fn entries_count_from_their_year() {
        let s = Catalogue::serious();
        let late = s.entries.iter().find(|e| e.since == Some(2020)).unwrap();
        let code = &late.icd10_prefixes[0];
        assert!(s.find(code, 2019).map(|e| e.since != Some(2020)).unwrap_or(true));
        assert!(s.find(code, 2020).is_some());
    }
}
