//! Settlement over HTTP: the real-time API (`POST /api/v1/settlements`, `POST
//! /api/v1/claims/{id}/void?facility=F`) and the calculator page, where a clerk
//! enters a bill and sees the split and the explanation from the settle engine.
//!
//! Claims are keyed by the facility that submitted them and their ID there: a
//! claim is named by its ID in the path and its facility in the query
//! (`?facility=F`, required; empty for a claim imported without one), on the
//! API and the pages alike, and every link carries both ([`slip_path`]). A claim
//! or a facility outside the caller's scope is answered as an unknown one.
//!
//! The claim is parsed by the same code as an imported file row
//! ([`domain::Record::from_fields`]), so an API claim and a file claim are refused
//! for the same reasons; the arithmetic is `settle`'s, the durability and the
//! per-person serialisation the repository's.

use crate::access::Permission;
use crate::api::ApiJson;
use crate::auth::{ApiUser, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, url};
use crate::i18n::{t, Lang};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use domain::{ClaimKind, FacilityLevel, Fen, PovertyStatus, Record};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/settlements", post(settle_api))
        .route("/claims/{id}/void", post(void_api))
        .route("/claims/{id}/slip", get(slip_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/settle", get(calculator).post(calculate)).route("/claims/{id}/slip", get(slip_page))
}

/// The facility of a claim named in a path: `?facility=F`.
#[derive(Debug, Deserialize)]
pub struct ClaimAt {
    pub facility: Option<String>,
}

/// The path of a claim's slip page, by its key.
pub fn slip_path(claim_id: &str, facility_id: &str) -> String {
    format!("/claims/{}/slip?facility={}", url(claim_id), url(facility_id))
}

/// The key of a claim named by its ID in the path and its facility in the query.
fn claim_key(id: &str, at: &ClaimAt) -> Result<domain::ClaimKey, WebError> {
    let id = domain::parse_id("claim_id", id)
        .map_err(|e| WebError::BadRequest(format!("invalid claim ID: {}", e.reason)))?;
    let Some(facility) = at.facility.as_deref() else {
        return Err(WebError::BadRequest(
            "name the claim's facility: ?facility=ID (empty for a claim imported without one); claim IDs are the facility's"
                .into(),
        ));
    };
    let facility = match facility.trim() {
        "" => String::new(),
        f => domain::parse_id("facility", f)
            .map_err(|e| WebError::BadRequest(format!("invalid facility ID: {}", e.reason)))?,
    };
    Ok(domain::ClaimKey { facility_id: facility, claim_id: id })
}

/// Audits an attempt on another county's claim or facility, which is answered
/// exactly as one that does not exist.
async fn refused(st: &AppState, ctx: &crate::auth::Ctx, kind: &str, key: &str) -> Result<(), WebError> {
    let detail = format!("{kind} outside the scope {}", ctx.scope());
    crate::auth::audit(st, &ctx.user.username, "refused_out_of_scope", key, &detail).await
}

/// An amount as JSON: a string `"1234.56"` (exact) or a number `1234.56`, checked
/// by [`Fen::parse_yuan`] either way.
#[derive(Debug)]
pub struct Amount(pub String);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(serde_json::Number),
        }
        match Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom("an amount must be a string like \"1234.56\" or a number"))?
        {
            Raw::S(s) => Ok(Amount(s)),
            Raw::N(n) => Ok(Amount(n.to_string())),
        }
    }
}

/// A claim as the API takes it (docs/settlement.md, "Inputs"): with its
/// totals (`total_cost`, `eligible_cost`), or with its bill's `items`, from
/// which the eligible cost is computed (docs/catalogue.md; a `total_cost`
/// given must then equal the items' sum).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimIn {
    pub claim_id: String,
    pub person_id: String,
    pub facility_level: String,
    pub kind: String,
    pub admitted: String,
    pub discharged: String,
    #[serde(default)]
    pub total_cost: Option<Amount>,
    #[serde(default)]
    pub eligible_cost: Option<Amount>,
    #[serde(default)]
    pub diagnosis: String,
    #[serde(default)]
    pub facility_id: String,
    /// Whether the patient came with a referral (转诊); absent or null: not
    /// referred (docs/settlement.md, "Referral").
    #[serde(default)]
    pub referred: Option<bool>,
    #[serde(default)]
    pub items: Option<Vec<ItemIn>>,
}

/// A line of a bill as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    pub item_code: String,
    /// A positive number with at most four decimals (a string or a number).
    pub quantity: Amount,
    pub unit_price: Amount,
    /// Quantity × unit price, rounded half up to the fen; computed when left out.
    #[serde(default)]
    pub amount: Option<Amount>,
}

/// Parses bill lines (the API's, the desk form's), each refusal naming its line.
pub fn bill_lines(items: &[ItemIn]) -> Result<Vec<app::items::BillLine>, WebError> {
    items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let bad = |field: &str, e: &dyn std::fmt::Display| {
                WebError::Unprocessable(format!("invalid claim: items[{i}].{field}: {e}"))
            };
            let item_code = domain::parse_id("item_code", &it.item_code).map_err(|e| bad("item_code", &e.reason))?;
            let quantity = domain::items::Quantity::parse(&it.quantity.0).map_err(|e| bad("quantity", &e))?;
            let unit_price = Fen::parse_yuan(&it.unit_price.0).map_err(|e| bad("unit_price", &e))?;
            let amount = match &it.amount {
                Some(a) => {
                    let a = Fen::parse_yuan(&a.0).map_err(|e| bad("amount", &e))?;
                    domain::items::check_amount(quantity, unit_price, a).map_err(|e| bad("amount", &e))?;
                    Some(a)
                }
                None => None,
            };
            Ok(app::items::BillLine { item_code, quantity, unit_price, amount })
        })
        .collect()
}

impl ClaimIn {
    /// Validates the claim exactly as a file row is validated. A claim with
    /// items has no eligible cost of its own (a placeholder of zero, which the
    /// items replace); its total cost is optional.
    pub fn parse(&self) -> Result<domain::Claim, WebError> {
        let missing =
            |f: &str| WebError::Unprocessable(format!("invalid claim: {f}: required (or give the bill's items)"));
        let (total, eligible) = match &self.items {
            Some(_) => {
                if self.eligible_cost.is_some() {
                    return Err(WebError::Unprocessable(
                        "invalid claim: eligible_cost: a claim with items has its eligible cost computed from them; leave it out".into(),
                    ));
                }
                (self.total_cost.as_ref().map(|a| a.0.as_str()).unwrap_or("0"), "0")
            }
            None => (
                self.total_cost.as_ref().ok_or_else(|| missing("total_cost"))?.0.as_str(),
                self.eligible_cost.as_ref().ok_or_else(|| missing("eligible_cost"))?.0.as_str(),
            ),
        };
        let fields = [
            self.claim_id.as_str(),
            self.person_id.as_str(),
            self.facility_level.as_str(),
            self.kind.as_str(),
            self.admitted.as_str(),
            self.discharged.as_str(),
            total,
            eligible,
            self.diagnosis.as_str(),
            self.facility_id.as_str(),
            if self.referred == Some(true) { "true" } else { "false" },
        ];
        domain::Claim::from_fields(&fields).map_err(|e| WebError::Unprocessable(format!("invalid claim: {e}")))
    }
}

/// A bill's line as the answers show it.
#[derive(Serialize)]
pub struct ItemOut {
    pub item_code: String,
    pub name: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
    /// `a` (甲), `b` (乙) or `c` (丙).
    pub category: String,
    pub self_pay_share: String,
    pub self_pay_first: String,
    pub eligible: String,
}

pub fn items_out(items: &[domain::items::PricedItem]) -> Vec<ItemOut> {
    items
        .iter()
        .map(|i| ItemOut {
            item_code: i.item_code.clone(),
            name: i.name.clone(),
            quantity: i.quantity.to_string(),
            unit_price: i.unit_price.to_string(),
            amount: i.amount.to_string(),
            category: i.category.to_string(),
            self_pay_share: i.self_pay_share.to_string(),
            self_pay_first: i.self_pay_first.to_string(),
            eligible: i.eligible.to_string(),
        })
        .collect()
}

#[derive(Serialize)]
pub struct Payment {
    pub tier: String,
    pub amount: String,
}

#[derive(Serialize)]
pub struct SettlementOut {
    pub claim_id: String,
    pub facility_id: String,
    pub person_id: String,
    pub year: i32,
    pub status: String,
    pub policy: String,
    pub total_cost: String,
    pub eligible_cost: String,
    pub payments: Vec<Payment>,
    pub out_of_pocket: String,
    /// True when this claim had been settled before: the stored result, not counted twice.
    pub replayed: bool,
    /// Whether the person is enrolled in basic insurance for the claim's year.
    pub enrolled: bool,
    /// Whether the claim came with a referral.
    pub referred: bool,
    /// What the desk must tell the patient: a person not enrolled for the year
    /// gets nothing from the entries that require enrolment.
    pub warnings: Vec<String>,
    /// The bill's items with their category and eligible part (empty for a
    /// claim of totals only).
    pub items: Vec<ItemOut>,
}

/// The warning of a settlement of a person not enrolled for the year.
pub fn not_enrolled_warning(year: i32) -> String {
    format!(
        "not_enrolled: the person is not enrolled in basic medical insurance for {year} (未参保); the policy's tiers that require enrolment paid nothing"
    )
}

fn payments(names: &[String], fen: &[Fen]) -> Vec<Payment> {
    names.iter().zip(fen).map(|(n, f)| Payment { tier: n.clone(), amount: f.to_string() }).collect()
}

async fn settle_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(body): ApiJson<ClaimIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Settle)?;
    let claim = body.parse()?;
    let facility = claim.facility_id.clone();
    // Audited by the settlement's own transaction.
    let settled = match &body.items {
        Some(items) => {
            let lines = bill_lines(items)?;
            let total = match &body.total_cost {
                Some(_) => Some(claim.total_cost),
                None => None,
            };
            st.app.settle_itemised(ctx.scope(), claim, total, &lines, &ctx.user.username).await
        }
        None => st.app.settle_claim(ctx.scope(), claim, &ctx.user.username).await,
    };
    let r = match settled {
        Ok(r) => r,
        Err(e @ app::AppError::NotFound(_)) => {
            // Answered as an unknown facility; another county's is audited.
            if !facility.is_empty() && st.app.facility_outside_scope(ctx.scope(), &facility).await? {
                refused(&st, &ctx, "facility", &facility).await?;
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let out = SettlementOut {
        claim_id: r.claim.claim_id.clone(),
        facility_id: r.claim.facility_id.clone(),
        person_id: ctx.masking().id(r.claim.person_id),
        year: r.year,
        status: r.status.to_string(),
        policy: r.policy.name.clone(),
        total_cost: r.claim.total_cost.to_string(),
        eligible_cost: r.claim.eligible_cost.to_string(),
        payments: payments(&r.policy.names, &r.settlement.payments),
        out_of_pocket: r.settlement.out_of_pocket.to_string(),
        replayed: r.replayed,
        enrolled: r.enrolled,
        referred: r.claim.referred,
        warnings: if r.enrolled { vec![] } else { vec![not_enrolled_warning(r.year)] },
        items: items_out(&r.items),
    };
    let code = if r.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((code, Json(out)).into_response())
}

#[derive(Serialize)]
struct DifferenceOut {
    claim_id: String,
    facility_id: String,
    payments: Vec<Payment>,
    /// New minus old: positive means the patient owes more.
    out_of_pocket: String,
}

#[derive(Serialize)]
struct ResettledOut {
    claim_id: String,
    facility_id: String,
    payments: Vec<Payment>,
    out_of_pocket: String,
}

#[derive(Serialize)]
struct VoidOut {
    voided: String,
    facility_id: String,
    year: i32,
    /// The remaining claims of the person's year, settled again.
    settlements: Vec<ResettledOut>,
    /// Every claim whose settlement changed, new minus old (the voided one refunded whole).
    differences: Vec<DifferenceOut>,
}

async fn void_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    Query(at): Query<ClaimAt>,
) -> Result<Json<VoidOut>, WebError> {
    ctx.require(Permission::Settle)?;
    let key = claim_key(&id, &at)?;
    // Audited by the void's own transaction.
    let v = match st.app.void_claim(ctx.scope(), &key, &ctx.user.username).await {
        Ok(v) => v,
        Err(e @ app::AppError::NotFound(_)) => {
            if st.app.claim_outside_scope(ctx.scope(), &key).await? {
                refused(&st, &ctx, "claim", &key.to_string()).await?;
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let names = &v.policy.names;
    Ok(Json(VoidOut {
        voided: v.claim.claim_id,
        facility_id: v.claim.facility_id,
        year: v.year,
        settlements: v
            .settlements
            .iter()
            .map(|(c, s)| ResettledOut {
                claim_id: c.claim_id.clone(),
                facility_id: c.facility_id.clone(),
                payments: payments(names, &s.payments),
                out_of_pocket: s.out_of_pocket.to_string(),
            })
            .collect(),
        differences: v
            .differences
            .iter()
            .map(|d| DifferenceOut {
                claim_id: d.claim.claim_id.clone(),
                facility_id: d.claim.facility_id.clone(),
                payments: payments(names, &d.payments),
                out_of_pocket: d.out_of_pocket.to_string(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------- calculator page

#[derive(Deserialize, Default)]
struct CalcForm {
    #[serde(default)]
    policy: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    total: String,
    #[serde(default)]
    eligible: String,
    /// `no`: the person is not enrolled for the year; anything else is enrolled.
    #[serde(default)]
    enrolled: String,
}

fn options<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    value: impl Fn(T) -> String,
    label: impl Fn(T) -> String,
) -> String {
    all.iter()
        .map(|v| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                value(*v),
                if Some(*v) == chosen { " selected" } else { "" },
                esc(&label(*v))
            )
        })
        .collect()
}

async fn calculator_page(
    st: &AppState,
    ctx: &crate::auth::Ctx,
    f: &CalcForm,
    result: Option<String>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let policies = st.app.policies(ctx.scope()).await?;
    let source = if f.policy.is_empty() {
        policies.first().map(|p| p.policy.source().to_string()).unwrap_or_default()
    } else {
        f.policy.clone()
    };
    let status: Option<PovertyStatus> = f.status.parse().ok();
    let level: Option<FacilityLevel> = f.level.parse().ok();
    let kind: Option<ClaimKind> = f.kind.parse().ok();
    let lbl = |en: &'static str, zh: &'static str| if l == Lang::En { en } else { zh };
    let mut b = String::new();
    if !policies.is_empty() {
        b.push_str("<p class=\"note\">");
        for p in &policies {
            let _ = write!(
                b,
                "{} · {} · {}<br>",
                esc(&p.policy.name),
                if p.region.is_empty() { "*" } else { &p.region },
                p.year
            );
        }
        b.push_str("</p>");
    }
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/settle\" class=\"stack wide\" id=\"calc-form\">{csrf}\
<label>{st_l}<select name=\"status\">{sto}</select></label><label>{lv_l}<select name=\"level\">{lvo}</select></label>\
<label>{kd_l}<select name=\"kind\">{kdo}</select></label>\
<label>{tot_l}<input name=\"total\" value=\"{tot}\" required inputmode=\"decimal\"></label>\
<label>{el_l}<input name=\"eligible\" value=\"{el}\" required inputmode=\"decimal\"></label>\
<label>{en_l}<select name=\"enrolled\"><option value=\"yes\">{yes}</option><option value=\"no\"{no_sel}>{no}</option></select></label>\
<label>{pol_l}<textarea name=\"policy\" rows=\"10\" spellcheck=\"false\">{src}</textarea></label>\
<button type=\"submit\">{go}</button></form>",
        csrf = csrf_field(ctx),
        st_l = t(l, "status"),
        sto = options(
            PovertyStatus::ALL,
            status.or(Some(PovertyStatus::Lifted)),
            |s| s.as_str().into(),
            |s| format!("{} {}", s.zh(), s)
        ),
        lv_l = lbl("Facility level", "医疗机构级别"),
        lvo = options(
            FacilityLevel::ALL,
            level.or(Some(FacilityLevel::County)),
            |s| s.as_str().into(),
            |s| format!("{} {}", s.zh(), s)
        ),
        kd_l = t(l, "kind"),
        kdo = options(
            ClaimKind::ALL,
            kind.or(Some(ClaimKind::Inpatient)),
            |s| s.as_str().into(),
            |s| format!("{} {}", s.zh(), s)
        ),
        tot_l = t(l, "total_cost"),
        tot = esc(&f.total),
        el_l = lbl("Eligible cost (in the catalogue)", "政策范围内费用"),
        el = esc(&f.eligible),
        en_l = lbl("Enrolled in basic insurance for the year", "本年度参保基本医保"),
        yes = lbl("yes", "是"),
        no = lbl("no", "否"),
        no_sel = if f.enrolled == "no" { " selected" } else { "" },
        pol_l = t(l, "policies"),
        src = esc(&source),
        go = lbl("Settle", "测算"),
    );
    if let Some(r) = result {
        b.push_str(&r);
    }
    Ok(Html(page(ctx, t(l, "settle"), &b)).into_response())
}

async fn calculator(State(st): State<AppState>, PageUser(ctx): PageUser) -> Result<Response, PageError> {
    calculator_page(&st, &ctx, &CalcForm::default(), None).await
}

/// Settles the entered bill as the first claim of a year (nothing is stored) and
/// shows the split and the engine's explanation.
async fn calculate(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<CalcForm>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let lbl = |en: &'static str, zh: &'static str| if l == Lang::En { en } else { zh };
    let result = (|| -> Result<String, String> {
        let policy = settle::Policy::parse(&f.policy).map_err(|e| e.to_string())?;
        let status: PovertyStatus = f.status.parse().map_err(|e: domain::DomainError| e.0)?;
        let level: FacilityLevel = f.level.parse().map_err(|e: domain::DomainError| e.0)?;
        let kind: ClaimKind = f.kind.parse().map_err(|e: domain::DomainError| e.0)?;
        let total = Fen::parse_yuan(&f.total).map_err(|e| format!("{}: {e}", t(l, "total_cost")))?;
        let eligible = Fen::parse_yuan(&f.eligible).map_err(|e| format!("eligible: {e}"))?;
        if eligible > total {
            return Err(format!("the eligible cost {eligible} exceeds the total cost {total}"));
        }
        let enrolled = f.enrolled != "no";
        let input =
            settle::ClaimInput { level, kind, total_cost: total, eligible_cost: eligible, enrolled, referred: true };
        let ex = settle::explain(&policy, &input, status, &settle::Accumulators::new(&policy));
        let mut o = String::from("<section id=\"calc-result\">");
        if !enrolled {
            let _ = write!(
                o,
                "<p class=\"flash error\" role=\"alert\">{}</p>",
                lbl(
                    "Not enrolled in basic medical insurance for the year: the tiers that require enrolment pay nothing.",
                    "本年度未参保基本医保：要求参保的待遇不予支付。"
                )
            );
        }
        o.push_str("<table><thead><tr>");
        for n in &policy.names {
            let _ = write!(o, "<th>{}</th>", esc(n));
        }
        let _ = write!(o, "<th>{}</th></tr></thead><tbody><tr>", t(l, "oop"));
        for p in &ex.settlement.payments {
            let _ = write!(o, "<td>{p}</td>");
        }
        let _ = write!(o, "<td><strong>{}</strong></td></tr></tbody></table>", ex.settlement.out_of_pocket);
        let _ = write!(o, "<pre class=\"explain\">{}</pre></section>", esc(&ex.render(&policy)));
        Ok(o)
    })();
    let result = match result {
        Ok(r) => r,
        Err(e) => format!("<p class=\"flash error\" role=\"alert\">{}</p>", esc(&e)),
    };
    calculator_page(&st, &ctx, &f, Some(result)).await
}

// ---------------------------------------------------------------- the slip

/// A bill's items as a table: code, name, category, quantity, unit price,
/// amount, the 乙 lines' self-pay-first part, the eligible part; and the sums.
pub fn bill_table(l: Lang, items: &[domain::items::PricedItem]) -> String {
    let zh = l == Lang::Zh;
    let w = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    let mut b = format!(
        "<h2>{}</h2><table id=\"slip-items\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead><tbody>",
        w("费用明细", "The bill's items"),
        w("编码", "Code"),
        w("项目名称", "Item"),
        w("类别", "Category"),
        w("数量", "Quantity"),
        w("单价", "Unit price"),
        w("金额", "Amount"),
        w("先行自付", "Self-pay first"),
        w("政策范围内", "Eligible"),
    );
    for i in items {
        let cat = match (zh, i.category) {
            (true, c) => format!("{}类", c.zh()),
            (false, domain::items::ItemCategory::B) => {
                format!("b ({}% self-pay first)", i.self_pay_share.as_f64() * 100.0)
            }
            (false, c) => c.to_string(),
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&i.item_code),
            esc(&i.name),
            esc(&cat),
            i.quantity,
            i.unit_price,
            i.amount,
            i.self_pay_first,
            i.eligible
        );
    }
    let t = domain::items::BillTotals::of(items);
    let _ = write!(
        b,
        "</tbody><tfoot><tr class=\"total\"><th colspan=\"5\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr></tfoot></table>\
<p class=\"note\">{}: {}</p>",
        w("合计", "Total"),
        t.total,
        t.self_pay_first,
        t.eligible,
        w("丙类（目录外）", "Category c (outside the catalogue)"),
        t.not_covered,
    );
    b
}

/// A fund's name on a slip, for the tiers the programme's policies name; another
/// tier shows as its policy names it.
fn fund_label(l: Lang, tier: &str) -> String {
    let zh = match tier {
        "basic" => "基本医疗保险",
        "critical" => "大病保险",
        "assistance" => "医疗救助",
        "safety_net" => "政府兜底保障",
        "supplementary" => "补充医疗保险",
        other => return other.to_string(),
    };
    match l {
        Lang::Zh => zh.to_string(),
        Lang::En => tier.replace('_', " "),
    }
}

#[derive(Serialize)]
struct SlipOut {
    claim_id: String,
    /// The patient's reference and ID (masked unless the role may see it).
    person_ref: String,
    person_id: String,
    name: String,
    status: PovertyStatus,
    village_code: String,
    facility_id: String,
    facility_level: FacilityLevel,
    kind: ClaimKind,
    admitted: String,
    discharged: String,
    diagnosis: String,
    total_cost: String,
    eligible_cost: String,
    policy: String,
    payments: Vec<Payment>,
    /// What the funds paid together.
    paid: String,
    /// What the patient owes.
    out_of_pocket: String,
    explanation: String,
    settled_at: String,
    settled_by: String,
    voided: bool,
    /// Whether the patient was enrolled for the year when the claim was settled.
    enrolled: bool,
    /// Whether the claim came with a referral (the explanation says which
    /// rule that chose).
    referred: bool,
    /// `not_enrolled: ...` when not (see the settlement's warnings).
    warnings: Vec<String>,
    /// The bill's items (empty for a claim of totals only).
    items: Vec<ItemOut>,
}

/// The slip of a claim by its key; a claim that is unknown, outside the scope
/// or not settled is answered alike.
async fn slip_of(st: &AppState, ctx: &crate::auth::Ctx, id: &str, at: &ClaimAt) -> Result<app::slip::Slip, WebError> {
    let key = claim_key(id, at)?;
    let what = format!("the slip of claim {}", key.claim_id);
    st.app.refuse_other_facility(ctx.scope(), &key.facility_id, &ctx.user.username, &what).await?;
    let Some(slip) = st.app.slip(ctx.scope(), &key).await? else {
        if st.app.claim_outside_scope(ctx.scope(), &key).await? {
            refused(st, ctx, "claim", &key.to_string()).await?;
        }
        return Err(WebError::not_found("settled claim"));
    };
    crate::auth::audit(st, &ctx.user.username, "view_slip", &key.to_string(), &slip.claim.person_id.to_string())
        .await?;
    Ok(slip)
}

async fn slip_api(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    Query(at): Query<ClaimAt>,
) -> Result<Json<SlipOut>, WebError> {
    let s = slip_of(&st, &ctx, &id, &at).await?;
    let m = ctx.masking();
    let c = &s.claim;
    Ok(Json(SlipOut {
        claim_id: c.claim_id.clone(),
        person_ref: st.app.person_refs().await?.reference(c.person_id),
        person_id: m.id(c.person_id),
        name: m.name(&s.name),
        status: s.status,
        village_code: s.village.to_string(),
        facility_id: c.facility_id.clone(),
        facility_level: c.facility_level,
        kind: c.kind,
        admitted: c.admitted.to_string(),
        discharged: c.discharged.to_string(),
        diagnosis: c.diagnosis.clone(),
        total_cost: c.total_cost.to_string(),
        eligible_cost: c.eligible_cost.to_string(),
        policy: s.policy.clone(),
        payments: s
            .payments
            .iter()
            .map(|(tier, amount)| Payment { tier: tier.clone(), amount: amount.to_string() })
            .collect(),
        paid: s.paid.to_string(),
        out_of_pocket: s.out_of_pocket.to_string(),
        explanation: s.explanation.clone(),
        settled_at: s.settled_at.to_rfc3339(),
        settled_by: s.settled_by.clone(),
        voided: s.voided,
        enrolled: s.enrolled,
        referred: c.referred,
        warnings: if s.enrolled { vec![] } else { vec![not_enrolled_warning(c.year())] },
        items: items_out(&s.items),
    }))
}

/// The printable slip: one page, in the user's language.
async fn slip_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Query(at): Query<ClaimAt>,
) -> Result<Response, PageError> {
    let l = ctx.lang;
    let s = slip_of(&st, &ctx, &id, &at).await?;
    let m = ctx.masking();
    let c = &s.claim;
    let zh = l == Lang::Zh;
    let w = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    let mut b = String::from("<article class=\"slip\" id=\"slip\">");
    if s.voided {
        let _ = write!(
            b,
            "<p class=\"flash error\" id=\"slip-void\">{}</p>",
            w("此结算已作废。", "This settlement was voided.")
        );
    }
    if !s.enrolled {
        let _ = write!(
            b,
            "<p class=\"flash error\" role=\"alert\" id=\"slip-not-enrolled\">{}</p>",
            w(
                "本年度未参保基本医保：要求参保的待遇未予支付。",
                "Not enrolled in basic medical insurance for the year: the tiers that require enrolment paid nothing."
            )
        );
    }
    let person = crate::api::person_path(st.app.person_refs().await?, c.person_id);
    let _ = write!(
        b,
        "<dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><a href=\"{person}\">{}</a> {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>\
<dt>{}</dt><dd>{} · {} · {}</dd><dt>{}</dt><dd id=\"slip-referred\">{}</dd><dt>{}</dt><dd>{} – {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
        w("结算单号", "Claim"), esc(&c.claim_id),
        w("患者", "Patient"), esc(&m.name(&s.name)), esc(&m.id(c.person_id)),
        w("身份类别", "Status"), if zh { s.status.zh() } else { s.status.as_str() },
        w("所在村", "Village"), s.village,
        w("就诊", "Care"), esc(&c.facility_id), if zh { c.facility_level.zh() } else { c.facility_level.as_str() }, if zh { c.kind.zh() } else { c.kind.as_str() },
        w("转诊", "Referral"), if c.referred { w("已转诊", "referred") } else { w("未转诊", "not referred") },
        w("住院日期", "Dates"), c.admitted, c.discharged,
        w("诊断", "Diagnosis"), esc(&c.diagnosis),
        w("适用政策", "Policy"), esc(&s.policy),
    );
    let _ = write!(
        b,
        "<table id=\"slip-bill\"><tbody><tr><th>{}</th><td class=\"num\">{}</td></tr><tr><th>{}</th><td class=\"num\">{}</td></tr></tbody></table>",
        w("医疗总费用", "Total cost"), c.total_cost,
        w("政策范围内费用", "Eligible cost"), c.eligible_cost,
    );
    if !s.items.is_empty() {
        b.push_str(&bill_table(l, &s.items));
    }
    let _ = write!(b, "<h2>{}</h2><table id=\"slip-funds\"><tbody>", w("各项基金支付", "Paid by each fund"));
    for (tier, amount) in &s.payments {
        let _ = write!(b, "<tr><th>{}</th><td class=\"num\">{amount}</td></tr>", esc(&fund_label(l, tier)));
    }
    let _ = write!(
        b,
        "<tr class=\"total\"><th>{}</th><td class=\"num\">{}</td></tr><tr class=\"owed\"><th>{}</th><td class=\"num\" id=\"slip-owed\">{}</td></tr></tbody></table>",
        w("基金支付合计", "Paid by the funds"), s.paid,
        w("个人自付（应收）", "The patient pays"), s.out_of_pocket,
    );
    let _ = write!(
        b,
        "<h2>{}</h2><pre class=\"explanation\">{}</pre><p class=\"note\">{} {} · {}</p></article>",
        w("计算过程", "How it was worked out"),
        esc(&s.explanation),
        w("结算于", "Settled"),
        s.settled_at.format("%Y-%m-%d %H:%M UTC"),
        esc(&s.settled_by),
    );
    let _ = write!(b, "<p class=\"no-print\"><button type=\"button\" data-print>{}</button></p>", w("打印", "Print"));
    let title = format!("{} {}", w("一站式结算单", "Settlement slip"), c.claim_id);
    Ok(Html(page(&ctx, &title, &b)).into_response())
}
