//! The daily reconciliation of a facility with the funds (docs/desk.md,
//! "Reconciliation"): per day and per fund (tier), what the settlements made
//! that day pay, what the voids made that day take back, and what the
//! corrections (the re-settlement of a person's other claims after a void) add
//! or take back, each as lines of their own; and the statement of a fund for a
//! period, from which the fund pays the hospital.
//!
//! The lines add up to the slips: over any period that holds a claim's whole
//! history, the net of its lines per fund is what its slip shows now (nothing
//! for a voided claim, whose slip stays readable, marked void).
//!
//! A day is the calendar day in China (UTC+8) of the instant the settlement,
//! void or correction was committed.

use crate::access::{Masking, Scope};
use crate::model::{AppError, AppResult};
use crate::service::scope;
use crate::App;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::time::{china, china_day};
use domain::{Fen, ResidentId};
use ingest::tables::{Cell, Table};
use std::collections::{BTreeMap, HashMap};

/// The most days one reconciliation spans.
pub const MAX_DAYS: i64 = 366;

/// What a line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A settlement: what the fund pays for the claim as first settled.
    Settlement,
    /// A void: the claim's payments taken back (negative).
    Void,
    /// A correction: another claim's void re-settled this one (new minus old).
    Correction,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Settlement => "settlement",
            LineKind::Void => "void",
            LineKind::Correction => "correction",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            LineKind::Settlement => "结算",
            LineKind::Void => "冲销",
            LineKind::Correction => "更正",
        }
    }
}

/// One fund's amount of one claim on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub day: NaiveDate,
    pub at: DateTime<Utc>,
    pub kind: LineKind,
    pub claim_id: String,
    pub person: ResidentId,
    pub fund: String,
    pub amount: Fen,
    /// For voids and corrections: the voided claim that caused it.
    pub cause: String,
}

/// A fund's totals of one day (or of the period, `day` None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub day: Option<NaiveDate>,
    pub fund: String,
    pub settled: Fen,
    pub voided: Fen,
    pub corrected: Fen,
    pub net: Fen,
}

/// A facility's reconciliation of a period.
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub facility_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The funds, in the policy's order of tiers.
    pub funds: Vec<String>,
    /// Every line, by day, then kind, then claim.
    pub lines: Vec<Line>,
    /// Per day and fund.
    pub days: Vec<Totals>,
    /// Per fund, over the period.
    pub totals: Vec<Totals>,
}

fn totals_of<'a>(lines: impl Iterator<Item = &'a Line>, day: Option<NaiveDate>, fund: &str) -> Totals {
    let mut t = Totals {
        day,
        fund: fund.to_string(),
        settled: Fen::ZERO,
        voided: Fen::ZERO,
        corrected: Fen::ZERO,
        net: Fen::ZERO,
    };
    for l in lines.filter(|l| l.fund == fund) {
        match l.kind {
            LineKind::Settlement => t.settled += l.amount,
            LineKind::Void => t.voided += l.amount,
            LineKind::Correction => t.corrected += l.amount,
        }
        t.net += l.amount;
    }
    t
}

impl App {
    /// The reconciliation of a facility inside the scope (one outside it is
    /// answered as unknown) from `from` to `to`, both days included.
    pub async fn reconcile(
        &self,
        s: &Scope,
        facility: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Reconciliation> {
        crate::desk::check_facility(s, facility, "the reconciliation")?;
        if to < from {
            return Err(AppError::Invalid(format!("to: {to} is before from ({from})")));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(AppError::Invalid(format!("the period spans more than {MAX_DAYS} days")));
        }
        let since = china()
            .from_local_datetime(&from.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("a fixed offset has one midnight")
            .with_timezone(&Utc);
        let (settled, adjustments) = self.store().facility_settlements(&scope(s)?, facility, since).await?;
        let mut funds: Vec<String> = Vec::new();
        let mut note = |f: &str| {
            if !funds.iter().any(|x| x == f) {
                funds.push(f.to_string());
            }
        };
        // The corrections of each claim (to take back from what is stored now,
        // for the amounts first settled) and its first settlement's instant.
        let mut corrections: HashMap<&str, HashMap<&str, Fen>> = HashMap::new();
        let mut first: HashMap<&str, DateTime<Utc>> = HashMap::new();
        for a in &adjustments {
            let e = first.entry(a.claim_id.as_str()).or_insert(a.prior_settled_at);
            *e = (*e).min(a.prior_settled_at);
            if a.kind == "correction" {
                let c = corrections.entry(a.claim_id.as_str()).or_default();
                for (fund, amount) in &a.payments {
                    *c.entry(fund.as_str()).or_default() += *amount;
                }
            }
        }
        let within = |d: NaiveDate| d >= from && d <= to;
        let mut lines = Vec::new();
        for st in &settled {
            let at = first.get(st.claim_id.as_str()).copied().unwrap_or(st.settled_at).min(st.settled_at);
            let day = china_day(at);
            for (fund, now) in &st.payments {
                note(fund);
                let corrected = corrections.get(st.claim_id.as_str()).and_then(|c| c.get(fund.as_str()));
                let amount = *now - corrected.copied().unwrap_or(Fen::ZERO);
                if within(day) && amount != Fen::ZERO {
                    lines.push(Line {
                        day,
                        at,
                        kind: LineKind::Settlement,
                        claim_id: st.claim_id.clone(),
                        person: st.person,
                        fund: fund.clone(),
                        amount,
                        cause: String::new(),
                    });
                }
            }
        }
        for a in &adjustments {
            let day = china_day(a.at);
            let kind = if a.kind == "void" { LineKind::Void } else { LineKind::Correction };
            for (fund, amount) in &a.payments {
                note(fund);
                if within(day) && *amount != Fen::ZERO {
                    lines.push(Line {
                        day,
                        at: a.at,
                        kind,
                        claim_id: a.claim_id.clone(),
                        person: a.person,
                        fund: fund.clone(),
                        amount: *amount,
                        cause: a.cause.clone(),
                    });
                }
            }
        }
        lines.sort_by(|x, y| {
            (x.day, x.kind, &x.claim_id, x.at, funds.iter().position(|f| *f == x.fund)).cmp(&(
                y.day,
                y.kind,
                &y.claim_id,
                y.at,
                funds.iter().position(|f| *f == y.fund),
            ))
        });
        let mut by_day: BTreeMap<NaiveDate, Vec<&Line>> = BTreeMap::new();
        for l in &lines {
            by_day.entry(l.day).or_default().push(l);
        }
        let mut days = Vec::new();
        for (day, ls) in &by_day {
            for f in &funds {
                let t = totals_of(ls.iter().copied(), Some(*day), f);
                if ls.iter().any(|l| l.fund == *f) {
                    days.push(t);
                }
            }
        }
        let totals = funds.iter().map(|f| totals_of(lines.iter(), None, f)).collect();
        Ok(Reconciliation { facility_id: facility.to_string(), from, to, funds, lines, days, totals })
    }
}

impl Reconciliation {
    /// The summary sheet's name.
    pub const SUMMARY: &'static str = "汇总";

    /// The reconciliation as tables: the summary by day and fund (汇总), then
    /// one statement per fund with its lines and its total. Persons as the
    /// masking shows them.
    pub fn tables(&self, masking: Masking) -> Vec<Table> {
        let money = Cell::Money;
        let mut summary = Table {
            name: Self::SUMMARY.into(),
            header: ["日期 day", "基金 fund", "结算 settled", "冲销 voided", "更正 corrected", "净额 net"]
                .map(String::from)
                .to_vec(),
            rows: vec![],
        };
        for t in self.days.iter().chain(&self.totals) {
            summary.rows.push(vec![
                Cell::text(t.day.map(|d| d.to_string()).unwrap_or_else(|| "合计 total".into())),
                Cell::text(&t.fund),
                money(t.settled),
                money(t.voided),
                money(t.corrected),
                money(t.net),
            ]);
        }
        let mut out = vec![summary];
        for f in &self.funds {
            let mut t = Table {
                name: f.chars().take(31).collect(),
                header: [
                    "日期 day",
                    "类别 kind",
                    "就诊号 claim",
                    "患者 patient",
                    "金额 amount",
                    "原因 cause",
                    "时间 at",
                ]
                .map(String::from)
                .to_vec(),
                rows: vec![],
            };
            for l in self.lines.iter().filter(|l| l.fund == *f) {
                t.rows.push(vec![
                    Cell::text(l.day.to_string()),
                    Cell::text(format!("{} {}", l.kind.zh(), l.kind.as_str())),
                    Cell::text(&l.claim_id),
                    Cell::text(masking.id(l.person)),
                    money(l.amount),
                    Cell::text(if l.cause.is_empty() { String::new() } else { format!("void of {}", l.cause) }),
                    Cell::text(l.at.with_timezone(&china()).format("%Y-%m-%d %H:%M:%S%:z").to_string()),
                ]);
            }
            let total = self.totals.iter().find(|x| x.fund == *f).map(|x| x.net).unwrap_or(Fen::ZERO);
            t.rows.push(vec![
                Cell::text("合计 total"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                money(total),
                Cell::Empty,
                Cell::Empty,
            ]);
            out.push(t);
        }
        out
    }
}
