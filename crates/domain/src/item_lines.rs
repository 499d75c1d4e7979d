//! A claim items file's lines held column by column and grouped by claim
//! (docs/catalogue.md): a hospital's day is hundreds of thousands of lines
//! over a few thousand claims and a few hundred catalogue codes, so each
//! claim key and each item code is kept once, and a line is a few numbers
//! (its line in the file, its claim, its code, quantity, unit price, amount)
//! with no text of its own.
//!
//! Claims are numbered in the order of their first line, codes in the order of
//! their first use. The lines of one claim need not follow each other: a
//! claim's lines are all the lines with its claim ID and facility ID.

use crate::items::{ClaimItem, ClaimItemRef, Quantity};
use crate::{FastMap, Fen};

/// Where a text lies in [`ItemLines`]' arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    at: u32,
    len: u32,
}

/// One line of a bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemLine {
    /// The line in the file (a file's lines), or the index of its label (lines
    /// labelled one by one); see [`ItemLines::label`].
    pub line: u64,
    /// Its claim, from 0 in the order of first lines (see [`ItemLines::claim`]).
    pub claim: u32,
    /// Its item code, from 0 (see [`ItemLines::code`]).
    pub code: u32,
    pub quantity: Quantity,
    pub unit_price: Fen,
    pub amount: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Labels {
    /// `FILE:LINE`.
    File(String),
    /// A label a line, by index.
    Given(Vec<String>),
}

/// A file's claim items, grouped by claim (see the module's note).
#[derive(Debug, Clone)]
pub struct ItemLines {
    text: String,
    labels: Labels,
    claims: Vec<(Span, Span)>,
    codes: Vec<Span>,
    lines: Vec<ItemLine>,
    /// Claim keys (see [`claim_key`]) and codes to their numbers.
    claim_at: FastMap<Box<str>, u32>,
    code_at: FastMap<Box<str>, u32>,
    key: String,
}

/// The key of a claim in `claim_at`: the claim ID's length, then both IDs, so
/// that no two pairs of texts give the same key.
fn claim_key(out: &mut String, claim_id: &str, facility_id: &str) {
    use std::fmt::Write as _;
    out.clear();
    let _ = write!(out, "{}:{claim_id}{facility_id}", claim_id.len());
}

impl ItemLines {
    fn with_labels(labels: Labels, lines: usize) -> ItemLines {
        ItemLines {
            text: String::new(),
            labels,
            claims: Vec::new(),
            codes: Vec::new(),
            lines: Vec::with_capacity(lines),
            claim_at: FastMap::default(),
            code_at: FastMap::default(),
            key: String::new(),
        }
    }

    /// The lines of the file named `file` (labelled `FILE:LINE`), room made
    /// for about `lines` of them.
    pub fn for_file(file: &str, lines: usize) -> ItemLines {
        ItemLines::with_labels(Labels::File(file.to_string()), lines.min(50_000_000))
    }

    /// Lines labelled one by one, as `(label, line)` pairs.
    pub fn from_rows(rows: &[(String, ClaimItem)]) -> ItemLines {
        let mut out = ItemLines::with_labels(Labels::Given(Vec::with_capacity(rows.len())), rows.len());
        for (label, r) in rows {
            if let Labels::Given(l) = &mut out.labels {
                l.push(label.clone());
            }
            let line = out.lines.len() as u64;
            out.add(line, &r.borrowed());
        }
        out
    }

    /// Adds a line of the file (for [`ItemLines::for_file`] lines).
    pub fn push(&mut self, line: u64, r: &ClaimItemRef<'_>) {
        debug_assert!(matches!(self.labels, Labels::File(_)));
        self.add(line, r);
    }

    fn intern(&mut self, s: &str) -> Span {
        let at = self.text.len() as u32;
        self.text.push_str(s);
        Span { at, len: s.len() as u32 }
    }

    fn span(&self, s: Span) -> &str {
        &self.text[s.at as usize..(s.at + s.len) as usize]
    }

    fn add(&mut self, line: u64, r: &ClaimItemRef<'_>) {
        // A claim's lines usually follow each other: the map is asked once a claim.
        let same =
            self.lines.last().map(|l| l.claim).filter(|&c| self.claim(c as usize) == (r.claim_id, r.facility_id));
        let claim = match same {
            Some(c) => c,
            None => {
                let mut key = std::mem::take(&mut self.key);
                claim_key(&mut key, r.claim_id, r.facility_id);
                let claim = match self.claim_at.get(key.as_str()) {
                    Some(&c) => c,
                    None => {
                        let c = self.claims.len() as u32;
                        let (id, f) = (self.intern(r.claim_id), self.intern(r.facility_id));
                        self.claims.push((id, f));
                        self.claim_at.insert(key.as_str().into(), c);
                        c
                    }
                };
                self.key = key;
                claim
            }
        };
        let code = match self.code_at.get(r.item_code) {
            Some(&c) => c,
            None => {
                let c = self.codes.len() as u32;
                let s = self.intern(r.item_code);
                self.codes.push(s);
                self.code_at.insert(r.item_code.into(), c);
                c
            }
        };
        self.lines.push(ItemLine {
            line,
            claim,
            code,
            quantity: r.quantity,
            unit_price: r.unit_price,
            amount: r.amount,
        });
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines in file order.
    pub fn lines(&self) -> &[ItemLine] {
        &self.lines
    }

    /// How many claims the lines bill.
    pub fn claim_count(&self) -> usize {
        self.claims.len()
    }

    /// Claim `i`'s claim ID and facility ID (empty where the file gave none).
    pub fn claim(&self, i: usize) -> (&str, &str) {
        let (c, f) = self.claims[i];
        (self.span(c), self.span(f))
    }

    /// How many distinct item codes the lines bill.
    pub fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// Item code `i`.
    pub fn code(&self, i: usize) -> &str {
        self.span(self.codes[i])
    }

    /// Where a line came from: `FILE:LINE`, or the label it was given.
    pub fn label(&self, l: &ItemLine) -> String {
        match &self.labels {
            Labels::File(f) => format!("{f}:{}", l.line),
            Labels::Given(v) => v[l.line as usize].clone(),
        }
    }

    /// The lines of each claim, in file order: the indexes into [`Self::lines`]
    /// of claim `c`'s lines are `order[starts[c]..starts[c + 1]]`.
    pub fn by_claim(&self) -> (Vec<u32>, Vec<u32>) {
        let mut counts = vec![0u32; self.claims.len()];
        for l in &self.lines {
            counts[l.claim as usize] += 1;
        }
        let mut starts = Vec::with_capacity(counts.len() + 1);
        starts.push(0u32);
        let mut sum = 0u32;
        for c in counts {
            sum += c;
            starts.push(sum);
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; self.lines.len()];
        for (i, l) in self.lines.iter().enumerate() {
            let at = &mut next[l.claim as usize];
            order[*at as usize] = i as u32;
            *at += 1;
        }
        (starts, order)
    }

    /// The lines as labelled records, in file order (for comparisons).
    pub fn rows(&self) -> Vec<(String, ClaimItem)> {
        self.lines
            .iter()
            .map(|l| {
                let (claim_id, facility_id) = self.claim(l.claim as usize);
                let item = ClaimItem {
                    claim_id: claim_id.to_string(),
                    facility_id: facility_id.to_string(),
                    item_code: self.code(l.code as usize).to_string(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    amount: l.amount,
                };
                (self.label(l), item)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(c: &str, f: &str, code: &str, fen: i64) -> ClaimItem {
        ClaimItem {
            claim_id: c.into(),
            facility_id: f.into(),
            item_code: code.into(),
            quantity: Quantity::units(1),
            unit_price: Fen(fen),
            amount: Fen(fen),
        }
    }

    #[test]
    fn lines_are_grouped_by_claim_and_read_back_as_given() {
        let rows: Vec<(String, ClaimItem)> = vec![
            ("a:2".into(), item("C1", "F", "X", 1)),
            ("a:3".into(), item("C1", "F", "Y", 2)),
            ("a:4".into(), item("C2", "F", "X", 3)),
            // The same claim ID without its facility is another claim; C1 at F again is C1.
            ("a:5".into(), item("C1", "", "X", 4)),
            ("a:6".into(), item("C1", "F", "Z", 5)),
            // "C1" + "1F" and "C11" + "F" are two claims.
            ("a:7".into(), item("C1", "1F", "X", 6)),
            ("a:8".into(), item("C11", "F", "X", 7)),
        ];
        let l = ItemLines::from_rows(&rows);
        assert_eq!(l.rows(), rows);
        assert_eq!(l.claim_count(), 5);
        assert_eq!(l.code_count(), 3);
        assert_eq!(l.claim(2), ("C1", ""));
        let (starts, order) = l.by_claim();
        assert_eq!(starts, vec![0, 3, 4, 5, 6, 7]);
        assert_eq!(order, vec![0, 1, 4, 2, 3, 5, 6]);
        let mut f = ItemLines::for_file("items.csv", 0);
        f.push(9, &rows[0].1.borrowed());
        assert_eq!(f.label(&f.lines()[0]), "items.csv:9");
    }
}
