//! Itemised bills against the catalogue of drugs and services
//! (docs/catalogue.md): the catalogue by province and year, imported and read;
//! the items of claims already imported, priced and written with the claims'
//! eligible cost (all or nothing, every refusal naming its line); and a claim
//! settled in real time with its items, whose eligible cost is computed from
//! them. The arithmetic is `domain::items`'; the catalogue that prices a claim
//! is its facility's province's (or, for a claim without a stored facility,
//! its patient's), for the year of discharge.

use crate::access::Scope;
use crate::model::{AppError, AppResult, SettledClaim};
use crate::service::{scope, App};
use domain::item_lines::ItemLines;
use domain::items::{check_total, price_items, BillTotals, CatalogueItem, ClaimItem, PricedItem, PricedLine, Quantity};
use domain::{Claim, ClaimKey, Fen};
use std::collections::HashMap;

/// A line of a bill as a clerk or a hospital system enters it: the amount may
/// be left out (then it is quantity × unit price, rounded half up to the fen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    pub item_code: String,
    pub quantity: Quantity,
    pub unit_price: Fen,
    pub amount: Option<Fen>,
}

/// The most lines a bill settled in real time may carry.
pub const MAX_LINES: usize = 2_000;

/// The most refusals an import of claim items lists.
const MAX_REFUSALS: usize = 20;

impl App {
    /// The catalogue, filtered by province, year and a text (an item's code
    /// starts with it or its name holds it). The catalogue is public reference
    /// data: no scope applies.
    pub async fn catalogue(
        &self,
        province: Option<u8>,
        year: Option<i32>,
        q: &str,
        limit: u32,
        offset: u32,
    ) -> AppResult<Vec<CatalogueItem>> {
        Ok(self.store().search_catalogue(province, year, q, store::Page { limit, offset: offset.into() }).await?)
    }

    /// Records catalogue items (a file's rows), all or none. Audited once.
    pub async fn put_catalogue(&self, rows: &[(String, CatalogueItem)], actor: &str) -> AppResult<usize> {
        let n = {
            let _turn = self.writing().await;
            self.store().put_catalogue(rows, actor).await?
        };
        let mut keys: Vec<String> = rows.iter().map(|(_, i)| format!("{} {}", i.province, i.year)).collect();
        keys.sort();
        keys.dedup();
        self.audit_event(actor, "catalogue_set", "catalogue".into(), format!("{n} items of {}", keys.join(", ")), None)
            .await?;
        Ok(n)
    }

    /// Prices a bill against the catalogue of a province's year. A line whose
    /// amount is not quantity × unit price, or whose item is not in that
    /// catalogue, is refused, named `items[i]` (from 0).
    pub async fn price_bill(
        &self,
        province: u8,
        year: i32,
        lines: &[BillLine],
    ) -> AppResult<(Vec<PricedItem>, BillTotals)> {
        if lines.is_empty() {
            return Err(AppError::Invalid("items: a bill carries at least one item".into()));
        }
        if lines.len() > MAX_LINES {
            return Err(AppError::Invalid(format!("items: at most {MAX_LINES} lines a bill")));
        }
        let mut codes: Vec<&str> = lines.iter().map(|l| l.item_code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        let found = self.store().catalogue_items(province, year, Some(&codes)).await?;
        let by_code: HashMap<&str, &CatalogueItem> = found.iter().map(|i| (i.code.as_str(), i)).collect();
        let input: Vec<(String, Quantity, Fen, Fen)> = lines
            .iter()
            .map(|l| {
                let amount = l.amount.unwrap_or_else(|| domain::items::line_amount(l.quantity, l.unit_price));
                (l.item_code.clone(), l.quantity, l.unit_price, amount)
            })
            .collect();
        price_items(&input, |c| by_code.get(c).copied()).map_err(|(i, why)| {
            AppError::Invalid(format!("items[{i}]: {why} (the catalogue of province {province} for {year})"))
        })
    }

    /// Settles a claim in real time from its bill's items: the eligible cost
    /// is computed from them against the catalogue of the facility's province
    /// for the year of discharge, and the total cost is their sum (a total
    /// given must equal it). The claim's `eligible_cost` is ignored. The items
    /// are stored with the claim, in the settlement's transaction.
    pub async fn settle_itemised(
        &self,
        s: &Scope,
        mut claim: Claim,
        total_given: Option<Fen>,
        lines: &[BillLine],
        actor: &str,
    ) -> AppResult<SettledClaim> {
        if claim.facility_id.is_empty() {
            return Err(AppError::Invalid(
                "a claim settled in real time must name its facility (facility_id): claim IDs are the facility's"
                    .into(),
            ));
        }
        self.refuse_other_facility(s, &claim.facility_id, actor, &format!("claim {}", claim.claim_id)).await?;
        let facility = self.facility_in_scope(s, &claim.facility_id).await?;
        let province = domain::items::province_of(facility.region_code);
        let (items, totals) = self.price_bill(province, claim.year(), lines).await?;
        if let Some(t) = total_given {
            check_total(t, totals.total).map_err(|e| AppError::Invalid(format!("total_cost: {e}")))?;
        }
        claim.total_cost = totals.total;
        claim.eligible_cost = totals.eligible;
        self.settle_claim_with(s, claim, items, actor).await
    }

    /// The items of a claim inside the scope (none for a claim of totals only);
    /// a claim outside it is not found.
    pub async fn claim_items(&self, s: &Scope, key: &ClaimKey) -> AppResult<Vec<PricedItem>> {
        let inside = self.store().claim_facilities(&scope(s)?, &key.claim_id).await?;
        if !inside.contains(&key.facility_id) {
            return Err(AppError::NotFound(format!("claim {key} is not in your scope")));
        }
        Ok(self.store().claim_items(key).await?)
    }

    /// Records the items of claims already imported (a file's rows, each
    /// labelled with its line), all or none. A row's claim is named by its ID
    /// and facility; without a facility, the claim ID must be stored at one
    /// facility only. Refused, naming the line: a claim not in the store inside
    /// the scope, one settled or voided, an item not in the catalogue of the
    /// claim's province and year, and a claim whose total cost is not the sum
    /// of its items (named by its first line). The items of a claim replace
    /// those it had; its eligible cost becomes their eligible sum. Audited once.
    pub async fn import_claim_items(&self, s: &Scope, rows: &[(String, ClaimItem)], actor: &str) -> AppResult<usize> {
        self.import_item_lines(s, &ItemLines::from_rows(rows), actor).await
    }

    /// [`App::import_claim_items`] of a file's lines as its reader holds them
    /// (`ingest::read_claim_items`): no text is copied a line; each catalogue
    /// used is looked up by the file's code numbers (one look-up a code, not a
    /// line). Returns the lines recorded.
    pub async fn import_item_lines(&self, s: &Scope, file: &ItemLines, actor: &str) -> AppResult<usize> {
        let (starts, order) = file.by_claim();
        let lines = file.lines();
        let first_line = |g: usize| &lines[order[starts[g] as usize] as usize];
        let mut ids: Vec<&str> = (0..file.claim_count()).map(|g| file.claim(g).0).collect();
        ids.sort_unstable();
        ids.dedup();
        let stored = self.store().claims_for_items(&scope(s)?, &ids).await?;
        let mut at: HashMap<&str, Vec<&store::ClaimForItems>> = HashMap::new();
        for c in &stored {
            at.entry(c.key.claim_id.as_str()).or_default().push(c);
        }
        // Each claim's stored claim, or why it is refused, in the order of first lines.
        // Two files' lines of one claim, once with and once without its facility, are one claim.
        let mut seen: HashMap<&ClaimKey, String> = HashMap::new();
        let mut resolved: Vec<Result<&store::ClaimForItems, String>> = Vec::with_capacity(file.claim_count());
        let mut wanted: Vec<(u8, i32)> = Vec::new();
        for g in 0..file.claim_count() {
            let first = file.label(first_line(g));
            let (claim_id, facility) = file.claim(g);
            let candidates = at.get(claim_id).map(Vec::as_slice).unwrap_or(&[]);
            let found: Vec<&store::ClaimForItems> = if facility.is_empty() {
                candidates.to_vec()
            } else {
                candidates.iter().copied().filter(|c| c.key.facility_id == facility).collect()
            };
            let c = match found.as_slice() {
                [one] => *one,
                [] => {
                    let at = if facility.is_empty() { String::new() } else { format!(" at facility {facility}") };
                    resolved.push(Err(format!(
                        "{first}: claim_id: claim {claim_id}{at} is not in the store inside your scope (import the claims first)"
                    )));
                    continue;
                }
                many => {
                    let fs: Vec<&str> = many.iter().map(|c| c.key.facility_id.as_str()).collect();
                    resolved.push(Err(format!(
                        "{first}: facility_id: claim {claim_id} is stored at {} facilities ({}); name the facility",
                        fs.len(),
                        fs.join(", ")
                    )));
                    continue;
                }
            };
            if let Some(other) = seen.insert(&c.key, first.clone()) {
                resolved.push(Err(format!(
                    "{first}: claim {} already has items from {other}; give a claim's items once",
                    c.key
                )));
                continue;
            }
            if c.voided {
                resolved.push(Err(format!("{first}: claim {} was voided; its bill can no longer change", c.key)));
                continue;
            }
            if c.settled {
                resolved.push(Err(format!(
                    "{first}: claim {} is settled: its items would change the eligible cost it was settled on; import items before the claim is settled (or void it and settle the corrected bill under a new claim_id)",
                    c.key
                )));
                continue;
            }
            if !wanted.contains(&(c.province, c.year)) {
                wanted.push((c.province, c.year));
            }
            resolved.push(Ok(c));
        }
        // Each catalogue used, and for each of the file's codes its item there.
        let mut catalogues: Vec<Vec<CatalogueItem>> = Vec::with_capacity(wanted.len());
        for &(province, year) in &wanted {
            catalogues.push(self.store().catalogue_items(province, year, None).await?);
        }
        let dense: Vec<Vec<Option<&CatalogueItem>>> = catalogues
            .iter()
            .map(|items| {
                let by_code: HashMap<&str, &CatalogueItem> = items.iter().map(|i| (i.code.as_str(), i)).collect();
                (0..file.code_count()).map(|c| by_code.get(file.code(c)).copied()).collect()
            })
            .collect();
        let mut refusals: Vec<String> = Vec::new();
        let mut bills: Vec<store::BillLines> = Vec::with_capacity(file.claim_count());
        let mut priced: Vec<PricedLine<'_>> = Vec::with_capacity(file.len());
        'claims: for (g, r) in resolved.into_iter().enumerate() {
            if refusals.len() >= MAX_REFUSALS {
                break;
            }
            let c = match r {
                Ok(c) => c,
                Err(why) => {
                    refusals.push(why);
                    continue;
                }
            };
            let k = wanted.iter().position(|w| *w == (c.province, c.year)).expect("each claim's catalogue is loaded");
            let cat = &dense[k];
            let from = priced.len();
            let (mut total, mut eligible) = (Fen::ZERO, Fen::ZERO);
            for &i in &order[starts[g] as usize..starts[g + 1] as usize] {
                let l = &lines[i as usize];
                let code = file.code(l.code as usize);
                let found = domain::items::check_amount(l.quantity, l.unit_price, l.amount)
                    .and_then(|()| cat[l.code as usize].ok_or_else(|| domain::items::not_in_catalogue(code)));
                let item = match found {
                    Ok(item) => item,
                    Err(why) => {
                        refusals.push(format!(
                            "{}: {why} (claim {}: the catalogue of province {} for {})",
                            file.label(l),
                            c.key,
                            c.province,
                            c.year
                        ));
                        priced.truncate(from);
                        continue 'claims;
                    }
                };
                let p = PricedLine::of(code, item, l.quantity, l.unit_price, l.amount);
                total += p.amount;
                eligible += p.eligible;
                priced.push(p);
            }
            if let Err(why) = check_total(c.total_cost, total) {
                refusals.push(format!("{}: claim {}: {why}", file.label(first_line(g)), c.key));
                priced.truncate(from);
                continue;
            }
            bills.push(store::BillLines {
                label: file.label(first_line(g)),
                key: c.key.clone(),
                total_cost: total,
                eligible,
                lines: from..priced.len(),
            });
        }
        if !refusals.is_empty() {
            return Err(AppError::Invalid(format!(
                "the claim items are refused, nothing was written:\n{}",
                refusals.join("\n")
            )));
        }
        let n = {
            let _turn = self.writing().await;
            self.store().put_claim_lines(&scope(s)?, &bills, &priced).await?;
            bills.len()
        };
        let detail = format!("{} items of {n} claims", file.len());
        let (target, region) = match bills.as_slice() {
            [one] => (format!("claim {}", one.key), None),
            _ => ("claim_items".to_string(), crate::work::region_of_prefix(s.prefix())),
        };
        self.audit_event(actor, "claim_items_set", target, detail, region).await?;
        Ok(file.len())
    }
}

impl crate::import::WorkRecord for CatalogueItem {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, _today: chrono::NaiveDate) -> AppResult<usize> {
        app.put_catalogue(&rows, actor).await
    }
}

impl crate::import::WorkRecord for ClaimItem {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, _today: chrono::NaiveDate) -> AppResult<usize> {
        app.import_claim_items(&Scope::all(), &rows, actor).await
    }
}
