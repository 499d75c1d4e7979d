//! Itemised bills against the catalogue of drugs and services (docs/catalogue.md).
//!
//! A province publishes, for each year, a catalogue (医保药品目录, 诊疗项目目录)
//! whose items each fall in one category:
//! - 甲 (`a`): eligible in full;
//! - 乙 (`b`): eligible after a self-pay-first share (先行自付) that the
//!   catalogue sets per item, e.g. 10%;
//! - 丙 (`c`): not eligible (自费).
//!
//! A claim may carry its bill's items (`claim_items`); its eligible cost
//! (政策范围内费用) is then the sum of the items' eligible parts, not typed in.
//! Everything here is integer arithmetic on fen, with two roundings, both half
//! up to the fen and both per line:
//! - a line's amount is `quantity × unit_price`, the quantity kept to four
//!   decimals, rounded half up to the fen; a line whose amount differs is refused;
//! - a 乙 line's self-pay-first part is `amount × share` rounded half up to the
//!   fen (`Rate::apply`); its eligible part is the amount minus that part, so
//!   that the two always add up to the amount.
//!
//! A bill's eligible cost is the sum of its lines' eligible parts; its total is
//! the sum of their amounts and must equal the claim's total cost.

use crate::records::{col, id_ref, name_ref, opt, parse_name, req, required, Column, FieldError, Record};
use crate::{parse_id, DomainError, Fen, Rate, RegionCode, RegionLevel};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The category of a catalogue item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemCategory {
    /// 甲类: eligible in full.
    A,
    /// 乙类: eligible after the item's self-pay-first share.
    B,
    /// 丙类: not eligible.
    C,
}

impl ItemCategory {
    pub const ALL: &'static [ItemCategory] = &[ItemCategory::A, ItemCategory::B, ItemCategory::C];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemCategory::A => "a",
            ItemCategory::B => "b",
            ItemCategory::C => "c",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ItemCategory::A => "甲",
            ItemCategory::B => "乙",
            ItemCategory::C => "丙",
        }
    }
}

impl fmt::Display for ItemCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ItemCategory {
    type Err = String;
    /// `a`, `b`, `c` (any case), or `甲`, `乙`, `丙`, with or without `类`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let t = t.strip_suffix('类').unwrap_or(t);
        ItemCategory::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(t) || c.zh() == t)
            .ok_or_else(|| format!("{:?} is not a catalogue category (a, b, c, or 甲, 乙, 丙)", s.trim()))
    }
}

/// A quantity billed, kept to four decimals (ten-thousandths): `2`, `0.5`,
/// `1.25`. Always more than zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(pub i64);

impl Quantity {
    pub const SCALE: i64 = 10_000;
    /// A billion units: far above any bill's line.
    const MAX_UNITS: i64 = 1_000_000_000;

    pub const fn units(n: i64) -> Quantity {
        Quantity(n * Self::SCALE)
    }

    /// Parses a positive quantity with at most four decimals.
    pub fn parse(s: &str) -> Result<Quantity, DomainError> {
        let t = s.trim();
        if t.is_empty() {
            crate::bail!("the quantity is empty");
        }
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            crate::bail!("{t:?} is not a quantity (write digits with an optional decimal point, like 2 or 0.5)");
        }
        if frac.len() > 4 {
            crate::bail!("the quantity {t:?} has more than four decimals");
        }
        if int.len() > 10 {
            crate::bail!("the quantity {t:?} is too large");
        }
        let units: i64 = int.parse().map_err(|_| DomainError::new(format!("{t:?} is not a quantity")))?;
        if units > Self::MAX_UNITS {
            crate::bail!("the quantity {t:?} is too large");
        }
        let mut f: i64 = 0;
        for k in 0..4 {
            f = f * 10 + frac.as_bytes().get(k).map(|b| (b - b'0') as i64).unwrap_or(0);
        }
        let q = units * Self::SCALE + f;
        if q == 0 {
            crate::bail!("the quantity is zero; a line bills more than nothing");
        }
        Ok(Quantity(q))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format!("{}.{:04}", self.0 / Self::SCALE, self.0 % Self::SCALE);
        f.write_str(s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A line's amount: `quantity × unit_price`, rounded half up to the fen.
pub fn line_amount(quantity: Quantity, unit_price: Fen) -> Fen {
    Fen(crate::money::round_scaled(quantity.0 as i128 * unit_price.0 as i128))
}

/// An item of a province's catalogue for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    /// The province's two-digit code (`34` for Anhui).
    pub province: u8,
    pub year: i32,
    /// The item's code in the catalogue (a drug's or a service's).
    pub code: String,
    pub name: String,
    pub category: ItemCategory,
    /// 乙 only: the share the patient pays first, before the rest is eligible;
    /// zero for 甲 and 丙.
    pub self_pay_share: Rate,
}

impl CatalogueItem {
    /// How a line of `amount` billed under this item splits (see [`price_line`]).
    pub fn price(&self, amount: Fen) -> (Fen, Fen) {
        price_line(amount, self.category, self.self_pay_share)
    }
}

/// Parses a province as two digits (`34`), or a 12-digit code of a province.
pub fn parse_province(s: &str) -> Result<u8, DomainError> {
    let t = s.trim();
    let code = RegionCode::parse(t)?;
    if code.level() != RegionLevel::Province {
        crate::bail!("{t:?} is not a province (write its two digits, like 34)");
    }
    Ok((code.as_u64() / 10_000_000_000) as u8)
}

/// The province (two digits) of a region code.
pub fn province_of(code: RegionCode) -> u8 {
    (code.as_u64() / 10_000_000_000) as u8
}

/// A line's self-pay-first part and eligible part, which add up to the amount:
/// 甲 `(0, amount)`; 乙 `(s, amount − s)` with `s = amount × share` rounded half
/// up to the fen; 丙 `(0, 0)` (the whole amount is outside the catalogue).
pub fn price_line(amount: Fen, category: ItemCategory, share: Rate) -> (Fen, Fen) {
    match category {
        ItemCategory::A => (Fen::ZERO, amount),
        ItemCategory::B => {
            let first = share.apply(amount);
            (first, amount - first)
        }
        ItemCategory::C => (Fen::ZERO, Fen::ZERO),
    }
}

/// A line of a claim's bill, as `claim_items` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimItem {
    pub claim_id: String,
    /// The claim's facility; empty where the claim has none (as in the claims file).
    pub facility_id: String,
    pub item_code: String,
    pub quantity: Quantity,
    pub unit_price: Fen,
    /// `quantity × unit_price` rounded half up to the fen.
    pub amount: Fen,
}

impl ClaimItem {
    /// The claim this line belongs to.
    pub fn claim_key(&self) -> crate::ClaimKey {
        crate::ClaimKey::new(&self.facility_id, &self.claim_id)
    }
}

/// A line of a claim's bill as it lies in a file's text: what
/// [`ClaimItem`] holds, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimItemRef<'a> {
    pub claim_id: &'a str,
    pub facility_id: &'a str,
    pub item_code: &'a str,
    pub quantity: Quantity,
    pub unit_price: Fen,
    pub amount: Fen,
}

impl ClaimItem {
    /// The line, borrowed.
    pub fn borrowed(&self) -> ClaimItemRef<'_> {
        ClaimItemRef {
            claim_id: &self.claim_id,
            facility_id: &self.facility_id,
            item_code: &self.item_code,
            quantity: self.quantity,
            unit_price: self.unit_price,
            amount: self.amount,
        }
    }

    /// Checks a row's fields (in `COLUMNS` order) as [`Record::from_fields`]
    /// does, without copying its texts: every reader of the claim items file
    /// accepts and refuses the same rows.
    pub fn parse_ref<'a>(f: &[&'a str]) -> Result<ClaimItemRef<'a>, FieldError> {
        let claim_id = id_ref("claim_id", f[0])?;
        let item_code = id_ref("item_code", f[1])?;
        let quantity = col("quantity", Quantity::parse(f[2]))?;
        let unit_price = col("unit_price", Fen::parse_yuan(f[3]))?;
        let amount = col("amount", Fen::parse_yuan(f[4]))?;
        check_amount(quantity, unit_price, amount).map_err(|reason| FieldError { column: "amount", reason })?;
        let facility_id = name_ref("facility_id", f[5], true)?;
        Ok(ClaimItemRef { claim_id, facility_id, item_code, quantity, unit_price, amount })
    }
}

/// Checks a line's amount against its quantity and unit price.
pub fn check_amount(quantity: Quantity, unit_price: Fen, amount: Fen) -> Result<(), String> {
    let want = line_amount(quantity, unit_price);
    if want != amount {
        return Err(format!(
            "the amount {amount} is not quantity × unit price ({quantity} × {unit_price} = {want}, rounded half up to the fen)"
        ));
    }
    Ok(())
}

/// A line priced against the catalogue: what the slip shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedItem {
    pub item_code: String,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Fen,
    pub amount: Fen,
    pub category: ItemCategory,
    pub self_pay_share: Rate,
    /// 乙 only: what the patient pays first.
    pub self_pay_first: Fen,
    /// The part inside the catalogue.
    pub eligible: Fen,
}

/// A [`PricedItem`] whose texts lie elsewhere (the file's codes, the
/// catalogue's names): what the store writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedLine<'a> {
    pub item_code: &'a str,
    pub name: &'a str,
    pub quantity: Quantity,
    pub unit_price: Fen,
    pub amount: Fen,
    pub category: ItemCategory,
    pub self_pay_share: Rate,
    pub self_pay_first: Fen,
    pub eligible: Fen,
}

impl<'a> PricedLine<'a> {
    /// A line of `amount` billed under the catalogue's `item`, priced.
    pub fn of(item_code: &'a str, item: &'a CatalogueItem, quantity: Quantity, unit_price: Fen, amount: Fen) -> Self {
        let (self_pay_first, eligible) = item.price(amount);
        PricedLine {
            item_code,
            name: &item.name,
            quantity,
            unit_price,
            amount,
            category: item.category,
            self_pay_share: item.self_pay_share,
            self_pay_first,
            eligible,
        }
    }
}

/// A priced line, owned or borrowed, as the store reads it.
pub trait AsPricedLine {
    fn priced_line(&self) -> PricedLine<'_>;
}

impl AsPricedLine for PricedItem {
    fn priced_line(&self) -> PricedLine<'_> {
        PricedLine {
            item_code: &self.item_code,
            name: &self.name,
            quantity: self.quantity,
            unit_price: self.unit_price,
            amount: self.amount,
            category: self.category,
            self_pay_share: self.self_pay_share,
            self_pay_first: self.self_pay_first,
            eligible: self.eligible,
        }
    }
}

impl AsPricedLine for PricedLine<'_> {
    fn priced_line(&self) -> PricedLine<'_> {
        *self
    }
}

/// A bill's sums: `total = eligible + self_pay_first + not_covered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BillTotals {
    pub total: Fen,
    pub eligible: Fen,
    /// The 乙 lines' self-pay-first parts.
    pub self_pay_first: Fen,
    /// The 丙 lines' amounts.
    pub not_covered: Fen,
}

impl BillTotals {
    pub fn of(lines: &[PricedItem]) -> BillTotals {
        let mut t = BillTotals::default();
        for l in lines {
            t.total += l.amount;
            t.eligible += l.eligible;
            t.self_pay_first += l.self_pay_first;
            if l.category == ItemCategory::C {
                t.not_covered += l.amount;
            }
        }
        t
    }
}

/// Prices a bill's lines against a catalogue (`find` looks an item code up in
/// the catalogue of the claim's province and year). The first line whose
/// amount does not add up or whose item is not in the catalogue is refused:
/// `Err((index, reason))`.
pub fn price_items<'c>(
    lines: &[(String, Quantity, Fen, Fen)],
    find: impl Fn(&str) -> Option<&'c CatalogueItem>,
) -> Result<(Vec<PricedItem>, BillTotals), (usize, String)> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, (code, quantity, unit_price, amount)) in lines.iter().enumerate() {
        check_amount(*quantity, *unit_price, *amount).map_err(|e| (i, e))?;
        let Some(item) = find(code) else {
            return Err((i, not_in_catalogue(code)));
        };
        let (self_pay_first, eligible) = item.price(*amount);
        out.push(PricedItem {
            item_code: code.clone(),
            name: item.name.clone(),
            quantity: *quantity,
            unit_price: *unit_price,
            amount: *amount,
            category: item.category,
            self_pay_share: item.self_pay_share,
            self_pay_first,
            eligible,
        });
    }
    let totals = BillTotals::of(&out);
    Ok((out, totals))
}

/// Why a line whose item is not in the catalogue is refused.
pub fn not_in_catalogue(code: &str) -> String {
    format!("item_code: {code:?} is not in the catalogue of the claim's province and year")
}

/// Checks that a bill's items add up to the claim's total cost.
pub fn check_total(total_cost: Fen, items_total: Fen) -> Result<(), String> {
    if total_cost != items_total {
        return Err(format!(
            "the claim's total cost {total_cost} is not the sum of its items' amounts ({items_total})"
        ));
    }
    Ok(())
}

/// The catalogue file's rows (docs/files.md, "Catalogue").
impl Record for CatalogueItem {
    const KIND: &'static str = "catalogue";
    const COLUMNS: &'static [Column] =
        &[req("province"), req("year"), req("code"), req("name"), req("category"), opt("self_pay_share")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let province = col("province", parse_province(required("province", f[0])?))?;
        let year = crate::enrolment::parse_year(required("year", f[1])?)
            .map_err(|reason| FieldError { column: "year", reason })?;
        let code = parse_id("code", f[2])?;
        let name = parse_name("name", f[3], false)?;
        let category: ItemCategory =
            required("category", f[4])?.parse().map_err(|reason| FieldError { column: "category", reason })?;
        let share = match f[5].trim() {
            "" => Rate(0),
            t => col("self_pay_share", Rate::parse(t))?,
        };
        match category {
            ItemCategory::B if share >= Rate::ONE => {
                return Err(FieldError {
                    column: "self_pay_share",
                    reason: format!("{share} leaves nothing eligible; a 乙 item's share is below 1 (an item paid in full by the patient is 丙)"),
                })
            }
            ItemCategory::A | ItemCategory::C if share != Rate(0) => {
                return Err(FieldError {
                    column: "self_pay_share",
                    reason: format!("a {} item has no self-pay-first share (only 乙 items do); leave it empty or 0", category.zh()),
                })
            }
            _ => {}
        }
        Ok(CatalogueItem { province, year, code, name, category, self_pay_share: share })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.province.to_string(),
            self.year.to_string(),
            self.code.clone(),
            self.name.clone(),
            self.category.to_string(),
            self.self_pay_share.to_string(),
        ]
    }

    fn key(&self) -> String {
        format!("{}/{}/{}", self.province, self.year, self.code)
    }
}

/// The claim items file's rows (docs/files.md, "Claim items").
impl Record for ClaimItem {
    const KIND: &'static str = "claim_items";
    const COLUMNS: &'static [Column] =
        &[req("claim_id"), req("item_code"), req("quantity"), req("unit_price"), req("amount"), opt("facility_id")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let r = ClaimItem::parse_ref(f)?;
        Ok(ClaimItem {
            claim_id: r.claim_id.to_string(),
            facility_id: r.facility_id.to_string(),
            item_code: r.item_code.to_string(),
            quantity: r.quantity,
            unit_price: r.unit_price,
            amount: r.amount,
        })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.claim_id.clone(),
            self.item_code.clone(),
            self.quantity.to_string(),
            self.unit_price.to_string(),
            self.amount.to_string(),
            self.facility_id.clone(),
        ]
    }

    /// None: a bill may bill the same item on two lines alike (a bed a day).
    fn key(&self) -> String {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(code: &str, category: ItemCategory, share: u32) -> CatalogueItem {
        CatalogueItem {
            province: 34,
            year: 2024,
            code: code.into(),
            name: format!("item {code}"),
            category,
            self_pay_share: Rate(share),
        }
    }

    #[test]
    fn quantities_and_amounts_round_half_up_to_the_fen() {
        assert_eq!(Quantity::parse("2"), Ok(Quantity(20_000)));
        assert_eq!(Quantity::parse("0.5").unwrap().to_string(), "0.5");
        assert!(Quantity::parse("0").is_err());
        assert!(Quantity::parse("1.00001").is_err());
        assert!(Quantity::parse("-1").is_err());
        // 0.5 × 0.03 yuan = 0.015 yuan: half a fen rounds up.
        assert_eq!(line_amount(Quantity(5_000), Fen(3)), Fen(2));
        assert_eq!(line_amount(Quantity(3_333), Fen(3)), Fen(1));
        assert_eq!(line_amount(Quantity::units(3), Fen(1_250)), Fen(3_750));
        assert!(check_amount(Quantity::units(3), Fen(1_250), Fen(3_751)).unwrap_err().contains("37.50"));
    }

    #[test]
    fn each_category_prices_as_the_catalogue_says() {
        assert_eq!(price_line(Fen(10_000), ItemCategory::A, Rate(0)), (Fen(0), Fen(10_000)));
        assert_eq!(price_line(Fen(10_000), ItemCategory::B, Rate(1_000)), (Fen(1_000), Fen(9_000)));
        // 10% of 0.05 yuan is half a fen: rounded up, the eligible part loses it.
        assert_eq!(price_line(Fen(5), ItemCategory::B, Rate(1_000)), (Fen(1), Fen(4)));
        assert_eq!(price_line(Fen(10_000), ItemCategory::C, Rate(0)), (Fen(0), Fen(0)));
    }

    #[test]
    fn a_bill_is_priced_and_refused_by_line() {
        let cat = [item("A1", ItemCategory::A, 0), item("B1", ItemCategory::B, 1_500), item("C1", ItemCategory::C, 0)];
        let find = |c: &str| cat.iter().find(|i| i.code == c);
        let lines = vec![
            ("A1".to_string(), Quantity::units(2), Fen(1_000), Fen(2_000)),
            ("B1".to_string(), Quantity::units(1), Fen(10_000), Fen(10_000)),
            ("C1".to_string(), Quantity::units(1), Fen(3_000), Fen(3_000)),
        ];
        let (priced, t) = price_items(&lines, find).unwrap();
        assert_eq!(priced[1].self_pay_first, Fen(1_500));
        assert_eq!(
            t,
            BillTotals {
                total: Fen(15_000),
                eligible: Fen(10_500),
                self_pay_first: Fen(1_500),
                not_covered: Fen(3_000)
            }
        );
        let mut unknown = lines.clone();
        unknown[2].0 = "X9".into();
        let (at, why) = price_items(&unknown, find).unwrap_err();
        assert_eq!(at, 2);
        assert!(why.contains("X9") && why.contains("not in the catalogue"), "{why}");
        let mut off = lines.clone();
        off[0].3 = Fen(2_001);
        assert_eq!(price_items(&off, find).unwrap_err().0, 0);
        assert!(check_total(Fen(15_000), t.total).is_ok());
        assert!(check_total(Fen(15_001), t.total).unwrap_err().contains("150.01"));
    }

    #[test]
    fn file_rows_are_checked() {
        let i = CatalogueItem::from_fields(&["34", "2024", "XJ01CA04", "阿莫西林胶囊", "甲", ""]).unwrap();
        assert_eq!((i.province, i.category), (34, ItemCategory::A));
        let b = CatalogueItem::from_fields(&["340000000000", "2024", "B1", "x", "乙类", "0.1"]).unwrap();
        assert_eq!((b.province, b.self_pay_share), (34, Rate(1_000)));
        assert_eq!(
            CatalogueItem::from_fields(&["3401", "2024", "B1", "x", "b", "0.1"]).unwrap_err().column,
            "province"
        );
        assert_eq!(
            CatalogueItem::from_fields(&["34", "2024", "B1", "x", "a", "0.1"]).unwrap_err().column,
            "self_pay_share"
        );
        assert_eq!(
            CatalogueItem::from_fields(&["34", "2024", "B1", "x", "b", "1"]).unwrap_err().column,
            "self_pay_share"
        );
        assert_eq!(CatalogueItem::from_fields(&["34", "2024", "B1", "x", "d", ""]).unwrap_err().column, "category");
        let l = ClaimItem::from_fields(&["C1", "XJ01CA04", "2", "12.50", "25.00", "F1"]).unwrap();
        assert_eq!((l.amount, l.facility_id.as_str()), (Fen(2_500), "F1"));
        let e = ClaimItem::from_fields(&["C1", "XJ01CA04", "2", "12.50", "25.01", ""]).unwrap_err();
        assert_eq!(e.column, "amount");
        assert!(e.reason.contains("25.00"), "{}", e.reason);
        assert_eq!(ClaimItem::from_fields(&l.to_fields().iter().map(String::as_str).collect::<Vec<_>>()), Ok(l));
    }

    fn arb_line() -> impl Strategy<Value = (ItemCategory, u32, i64, i64)> {
        (
            prop_oneof![Just(ItemCategory::A), Just(ItemCategory::B), Just(ItemCategory::C)],
            0u32..10_000,
            1i64..2_000_000,
            0i64..5_000_000,
        )
    }

    proptest! {
        #[test]
        fn bills_add_up(lines in proptest::collection::vec(arb_line(), 0..60)) {
            let cat: Vec<CatalogueItem> = lines
                .iter()
                .enumerate()
                .map(|(i, (c, s, _, _))| item(&format!("I{i}"), *c, if *c == ItemCategory::B { *s } else { 0 }))
                .collect();
            let bill: Vec<(String, Quantity, Fen, Fen)> = lines
                .iter()
                .enumerate()
                .map(|(i, (_, _, q, p))| (format!("I{i}"), Quantity(*q), Fen(*p), line_amount(Quantity(*q), Fen(*p))))
                .collect();
            let (priced, t) = price_items(&bill, |c| cat.iter().find(|i| i.code == c)).unwrap();
            // The sums are the sums of the lines, and they add up to the total.
            prop_assert_eq!(t.total, bill.iter().map(|l| l.3).sum::<Fen>());
            prop_assert_eq!(t.total, t.eligible + t.self_pay_first + t.not_covered);
            prop_assert!(t.eligible >= Fen::ZERO && t.eligible <= t.total);
            for p in &priced {
                prop_assert!(p.eligible >= Fen::ZERO && p.eligible <= p.amount);
                prop_assert_eq!(p.eligible + p.self_pay_first + if p.category == ItemCategory::C { p.amount } else { Fen::ZERO }, p.amount);
            }
            // A bill of 甲 items only is eligible in full; of 丙 only, not at all.
            if priced.iter().all(|p| p.category == ItemCategory::A) {
                prop_assert_eq!(t.eligible, t.total);
            }
            if priced.iter().all(|p| p.category == ItemCategory::C) {
                prop_assert_eq!(t.eligible, Fen::ZERO);
            }
        }

        #[test]
        fn a_higher_share_never_makes_more_eligible(amount in 0i64..10_000_000, s1 in 0u32..10_000, s2 in 0u32..10_000) {
            let (lo, hi) = (s1.min(s2), s1.max(s2));
            let e_lo = price_line(Fen(amount), ItemCategory::B, Rate(lo)).1;
            let e_hi = price_line(Fen(amount), ItemCategory::B, Rate(hi)).1;
            prop_assert!(e_hi <= e_lo);
        }
    }
}
