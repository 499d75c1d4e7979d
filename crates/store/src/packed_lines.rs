//! A claim's priced lines packed into one text (migration 28, docs/catalogue.md).
//!
//! A bill of 50 lines was 50 rows of `claim_items`: a hospital's day of 10,000
//! itemised claims wrote half a million rows, each with its key, its foreign key
//! check and its constraints, which cost five times the settlement of the same
//! claims with totals only. The store now keeps one row a claim
//! (`claim_bills`): the lines' count and sums, which the triggers on `claims`
//! read, and the lines themselves in this text.
//!
//! The text is the lines in order, each ended by U+001E (record separator), its
//! nine fields parted by U+001F (unit separator):
//! `item_code, name, quantity, unit_price, amount, category, self_pay_share,
//! self_pay_first, eligible`, integers in decimal, the category `a`, `b` or `c`.
//! Codes and names are checked to hold no control character before they reach
//! the store (`domain::records`); should one hold a separator or a backslash
//! anyway, it is written `\F`, `\L` or `\\`, so that every text packs and
//! unpacks to itself.

use domain::items::{AsPricedLine, ItemCategory, PricedItem, Quantity};
use domain::{Fen, Rate};

const FIELD: char = '\u{1f}';
const LINE: char = '\u{1e}';

/// A bill's lines packed, with what the table keeps beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packed {
    pub count: i64,
    pub amount: i64,
    pub eligible: i64,
    pub text: String,
}

fn push_text(out: &mut String, s: &str) {
    if !s.contains(['\\', FIELD, LINE]) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            FIELD => out.push_str("\\F"),
            LINE => out.push_str("\\L"),
            c => out.push(c),
        }
    }
}

fn push_int(out: &mut String, buf: &mut itoa::Buffer, v: i64) {
    out.push_str(buf.format(v));
}

/// Packs `lines`, in their order.
pub(crate) fn pack<L: AsPricedLine>(lines: &[L]) -> Packed {
    let mut text = String::with_capacity(lines.len() * 64);
    let mut buf = itoa::Buffer::new();
    let (mut amount, mut eligible) = (0i64, 0i64);
    for l in lines {
        let l = l.priced_line();
        amount += l.amount.0;
        eligible += l.eligible.0;
        push_text(&mut text, l.item_code);
        text.push(FIELD);
        push_text(&mut text, l.name);
        for v in [l.quantity.0, l.unit_price.0, l.amount.0] {
            text.push(FIELD);
            push_int(&mut text, &mut buf, v);
        }
        text.push(FIELD);
        text.push_str(l.category.as_str());
        for v in [l.self_pay_share.0 as i64, l.self_pay_first.0, l.eligible.0] {
            text.push(FIELD);
            push_int(&mut text, &mut buf, v);
        }
        text.push(LINE);
    }
    Packed { count: lines.len() as i64, amount, eligible, text }
}

fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('\\') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('F') => out.push(FIELD),
            Some('L') => out.push(LINE),
            other => return Err(format!("an unknown escape \\{}", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}

fn int(field: &str, what: &str) -> Result<i64, String> {
    field.parse().map_err(|_| format!("{what} {field:?} is not an integer"))
}

/// The lines of a packed text, in order.
pub(crate) fn unpack(text: &str) -> Result<Vec<PricedItem>, String> {
    let Some(body) = text.strip_suffix(LINE) else {
        return if text.is_empty() { Ok(Vec::new()) } else { Err("the last line is not ended".into()) };
    };
    body.split(LINE)
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(FIELD).collect();
            let at = |e: String| format!("line {}: {e}", i + 1);
            let [code, name, quantity, unit_price, amount, category, share, first, eligible] = f[..] else {
                return Err(at(format!("{} fields, not 9", f.len())));
            };
            let share = int(share, "self_pay_share").map_err(at)?;
            Ok(PricedItem {
                item_code: unescape(code).map_err(at)?,
                name: unescape(name).map_err(at)?,
                quantity: Quantity(int(quantity, "quantity").map_err(at)?),
                unit_price: Fen(int(unit_price, "unit_price").map_err(at)?),
                amount: Fen(int(amount, "amount").map_err(at)?),
                category: category.parse::<ItemCategory>().map_err(at)?,
                self_pay_share: Rate(
                    u32::try_from(share).map_err(|_| at(format!("self_pay_share {share} out of range")))?,
                ),
                self_pay_first: Fen(int(first, "self_pay_first").map_err(at)?),
                eligible: Fen(int(eligible, "eligible").map_err(at)?),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(code: &str, name: &str, amount: i64, category: ItemCategory) -> PricedItem {
        PricedItem {
            item_code: code.into(),
            name: name.into(),
            quantity: Quantity(2),
            unit_price: Fen(amount / 2),
            amount: Fen(amount),
            category,
            self_pay_share: Rate(if category == ItemCategory::B { 1000 } else { 0 }),
            self_pay_first: Fen(if category == ItemCategory::B { amount / 10 } else { 0 }),
            eligible: Fen(match category {
                ItemCategory::A => amount,
                ItemCategory::B => amount - amount / 10,
                ItemCategory::C => 0,
            }),
        }
    }

    #[test]
    fn a_bill_packs_to_its_lines_and_sums() {
        let bill = vec![
            item("XA01", "阿莫西林胶囊", 2400, ItemCategory::A),
            item("XB02", "头孢 0.25g", 1000, ItemCategory::B),
            item("F003", "单人病房", 600, ItemCategory::C),
        ];
        let p = pack(&bill);
        assert_eq!((p.count, p.amount, p.eligible), (3, 4000, 2400 + 900));
        assert_eq!(p.text.matches(LINE).count(), 3);
        assert!(p
            .text
            .starts_with("XA01\u{1f}阿莫西林胶囊\u{1f}2\u{1f}1200\u{1f}2400\u{1f}a\u{1f}0\u{1f}0\u{1f}2400\u{1e}"));
        assert_eq!(unpack(&p.text).unwrap(), bill);
        assert_eq!(unpack("").unwrap(), Vec::<PricedItem>::new());
    }

    #[test]
    fn separators_and_backslashes_in_texts_survive() {
        let bill = vec![item("A\\1", "x\u{1f}y\u{1e}z\\F", 10, ItemCategory::A)];
        let p = pack(&bill);
        assert_eq!(p.text.matches(LINE).count(), 1);
        assert_eq!(unpack(&p.text).unwrap(), bill);
    }

    #[test]
    fn damaged_texts_are_refused_with_the_line() {
        let p = pack(&[item("A1", "n", 10, ItemCategory::A), item("A2", "n", 10, ItemCategory::A)]);
        let cut = &p.text[..p.text.len() - 1];
        assert_eq!(unpack(cut).unwrap_err(), "the last line is not ended");
        let e = unpack(&p.text.replacen("\u{1f}10\u{1f}a", "\u{1f}ten\u{1f}a", 2)).unwrap_err();
        assert!(e.starts_with("line 1: amount \"ten\""), "{e}");
        let e = unpack("A1\u{1f}n\u{1f}1\u{1e}").unwrap_err();
        assert_eq!(e, "line 1: 3 fields, not 9");
        let e = unpack(&p.text.replace("\u{1f}a\u{1f}", "\u{1f}d\u{1f}")).unwrap_err();
        assert!(e.starts_with("line 1: "), "{e}");
    }

    proptest! {
        #[test]
        fn any_bill_unpacks_to_itself(
            lines in proptest::collection::vec(
                ("\\PC{0,12}", "\\PC{0,20}|[\\\\\u{1e}\u{1f}a-z]{0,8}", 0i64..10_000_000, 0u8..3), 0..60)
        ) {
            let bill: Vec<PricedItem> = lines
                .iter()
                .map(|(c, n, a, k)| item(c, n, *a, [ItemCategory::A, ItemCategory::B, ItemCategory::C][*k as usize]))
                .collect();
            let p = pack(&bill);
            prop_assert_eq!(p.count as usize, bill.len());
            prop_assert_eq!(p.amount, bill.iter().map(|i| i.amount.0).sum::<i64>());
            prop_assert_eq!(p.eligible, bill.iter().map(|i| i.eligible.0).sum::<i64>());
            prop_assert_eq!(unpack(&p.text).unwrap(), bill);
        }
    }
}
