//! The hospital desk's pages (docs/desk.md, "The pages"): `/desk`, where a
//! settlement clerk finds the patient, admits them (the deposit waived by
//! [`app::desk::deposit_waived`]), settles the bill, names the claim, prints the
//! slip and takes the patient's share in instalments; `/desk/arrears` and
//! `/desk/reconciliation` of a facility. The rules are the application's; the
//! pages only translate, as the API in [`crate::desk`] does.
//!
//! The facility must lie in the user's scope (else 404, as the API answers);
//! persons are named by their opaque reference in links and forms, never by a
//! clear ID, and masked as the role requires; a refused form draws the page
//! again with the message and the status the API would answer (400/409/422).

use crate::access::{Masking, Permission};
use crate::api::{person_param, person_path};
use crate::auth::{audit, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, url};
use crate::i18n::Lang;
use crate::pages::{form_error, with_status};
use crate::settlement::slip_path;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, Duration, NaiveDate};
use domain::{ClaimKind, Fen, Record};
use serde::Deserialize;
use std::fmt::Write;

type PageResult = Result<Response, PageError>;

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/desk", get(desk_page))
        .route("/desk/admit", post(admit_form))
        .route("/desk/admissions/{id}/settle", post(settle_form))
        .route("/desk/admissions/{id}/claim", post(link_form))
        .route("/desk/admissions/{id}/payments", post(pay_form))
        .route("/desk/arrears", get(arrears_page))
        .route("/desk/reconciliation", get(reconciliation_page))
}

fn w(l: Lang, zh: &'static str, en: &'static str) -> &'static str {
    if l == Lang::Zh {
        zh
    } else {
        en
    }
}

fn yes_no(l: Lang, b: bool) -> &'static str {
    match (l, b) {
        (Lang::Zh, true) => "是",
        (Lang::Zh, false) => "否",
        (Lang::En, true) => "yes",
        (Lang::En, false) => "no",
    }
}

/// A facility named in a query or form, checked as the API checks it.
fn facility_param(v: &str) -> Result<String, WebError> {
    domain::parse_id("facility", v.trim())
        .map_err(|e| WebError::BadRequest(format!("invalid facility ID: {}", e.reason)))
}

fn page_admission_id(id: &str) -> Result<i64, WebError> {
    id.trim().parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| WebError::not_found("admission"))
}

fn date_or_today(field: &str, v: &str) -> Result<NaiveDate, WebError> {
    match v.trim() {
        "" => Ok(crate::work::today()),
        d => domain::parse_date(d).map_err(|e| WebError::BadRequest(format!("{field}: {e}"))),
    }
}

/// Whether an admission still asks something of the desk: a bill to settle or
/// name, a balance to take, or a refund after a void.
fn open(a: &app::desk::Admission) -> bool {
    a.claim_id.is_none() || a.claim_voided || a.balance() != Fen::ZERO
}

#[derive(Deserialize, Default)]
struct DeskQuery {
    #[serde(default)]
    facility: String,
    #[serde(default)]
    person: String,
    /// The page of open admissions: after this key (`YYYY-MM-DD.ID`, from the
    /// next-page link); blank: the first page.
    #[serde(default)]
    after: String,
}

/// Open admissions a page of the desk shows.
const DESK_PAGE: u32 = 50;

/// The selector of the scope's facilities, and the patient search.
async fn selector(st: &AppState, ctx: &Ctx, action: &str, chosen: &str, extra: &str) -> Result<String, WebError> {
    let l = ctx.lang;
    let facilities = st.app.network(ctx.scope()).await?.facilities;
    let mut b = format!(
        "<form method=\"get\" action=\"{action}\" class=\"filters\" id=\"desk-select\"><label>{} <select name=\"facility\"><option value=\"\">—</option>",
        w(l, "医疗机构", "Facility")
    );
    for f in &facilities {
        let _ = write!(
            b,
            "<option value=\"{}\"{}>{} · {}</option>",
            esc(&f.facility_id),
            if f.facility_id == chosen { " selected" } else { "" },
            esc(&f.facility_id),
            esc(&f.name)
        );
    }
    let _ = write!(b, "</select></label>{extra} <button type=\"submit\">{}</button></form>", w(l, "查看", "Show"));
    Ok(b)
}

async fn desk_page(State(st): State<AppState>, PageUser(ctx): PageUser, Query(q): Query<DeskQuery>) -> PageResult {
    desk_view(&st, &ctx, &q, None).await
}

/// The desk of a facility (and a patient, when one is looked up), with a
/// refused form's message above it.
async fn desk_view(st: &AppState, ctx: &Ctx, q: &DeskQuery, error: Option<WebError>) -> PageResult {
    let l = ctx.lang;
    let m = ctx.masking();
    let may = ctx.may(Permission::Settle);
    let refs = st.app.person_refs().await?;
    // A clerk bound to a facility sees its desk unless they ask for another,
    // which is refused (and audited).
    let asked = match (q.facility.trim(), ctx.scope().facility()) {
        ("", Some(own)) => own.to_string(),
        (f, _) => f.to_string(),
    };
    let facility = match asked.as_str() {
        "" => None,
        f => {
            let f = facility_param(f)?;
            st.app.refuse_other_facility(ctx.scope(), &f, &ctx.user.username, "the desk").await?;
            Some(st.app.facility_in_scope(ctx.scope(), &f).await?)
        }
    };
    let fid = facility.as_ref().map(|f| f.facility_id.clone()).unwrap_or_default();
    let mut b = String::new();
    let mut shown = error;
    let search = format!(
        " <label>{} <input name=\"person\" value=\"\" autocomplete=\"off\" placeholder=\"{}\"></label>",
        w(l, "患者", "Patient"),
        if m == Masking::Masked {
            w(l, "人员编号", "person reference")
        } else {
            w(l, "身份证号", "resident ID")
        }
    );
    b.push_str(&selector(st, ctx, "/desk", &fid, &search).await?);
    if let Some(f) = &facility {
        let _ = write!(
            b,
            "<p class=\"note\"><a href=\"/desk/arrears?facility={u}\" id=\"arrears-link\">{}</a> · <a href=\"/desk/reconciliation?facility={u}\" id=\"reconciliation-link\">{}</a></p>",
            w(l, "欠费清单", "Arrears"),
            w(l, "对账", "Reconciliation"),
            u = url(&f.facility_id),
        );
    }

    // The patient looked up: scoped, masked IDs answer as unknown, audited as a view.
    let mut patient = String::new();
    if !q.person.trim().is_empty() {
        let found = async {
            let pid = person_param(st, ctx, &q.person).await?;
            let Some(rec) = st.app.person(ctx.scope(), pid).await? else {
                let elsewhere = st.app.person(&crate::access::Scope::all(), pid).await?.is_some();
                return Err(crate::api::not_in_scope(st, ctx, "person", &pid.to_string(), elsewhere).await?);
            };
            audit(st, &ctx.user.username, "view_person", &pid.to_string(), "desk").await?;
            Ok::<_, WebError>(rec)
        }
        .await;
        match found {
            Err(e @ (WebError::NotFound(_) | WebError::BadRequest(_))) => {
                shown.get_or_insert(e);
            }
            Err(e) => return Err(e.into()),
            Ok(rec) => {
                let p = &rec.person;
                let waived = app::desk::deposit_waived(p.status);
                let reference = refs.reference(p.person_id);
                let _ = write!(
                    patient,
                    "<section id=\"desk-patient\"><h2>{}</h2><dl class=\"facts\"><dt>{}</dt><dd><a href=\"{}\">{}</a> {}</dd>\
<dt>{}</dt><dd id=\"patient-status\">{} ({} {})</dd><dt>{}</dt><dd id=\"deposit-waived\">{}</dd></dl>",
                    w(l, "患者", "Patient"),
                    w(l, "姓名", "Name"),
                    person_path(refs, p.person_id),
                    esc(&m.name(&p.name)),
                    esc(&m.id(p.person_id)),
                    format_args!("{} {}", w(l, "身份类别", "Status"), crate::work::today().year()),
                    if l == Lang::Zh { p.status.zh() } else { p.status.as_str() },
                    w(l, "自", "since"),
                    p.status_since,
                    w(l, "免交住院押金", "Deposit waived"),
                    if waived {
                        w(l, "是（先诊疗后付费）", "yes (treat first, pay later)")
                    } else {
                        w(l, "否（按规定交押金）", "no (a deposit is taken)")
                    },
                );
                if may {
                    match &facility {
                        Some(f) => {
                            let _ = write!(
                                patient,
                                "<form method=\"post\" action=\"/desk/admit\" class=\"stack\" id=\"admit-form\">{}\
<input type=\"hidden\" name=\"facility\" value=\"{}\"><input type=\"hidden\" name=\"person\" value=\"{}\">\
<label>{}<input type=\"date\" name=\"admitted\" value=\"{}\" required></label><button type=\"submit\">{}</button></form>",
                                csrf_field(ctx),
                                esc(&f.facility_id),
                                esc(&reference),
                                w(l, "入院日期", "Admitted on"),
                                crate::work::today(),
                                w(l, "办理入院", "Admit"),
                            );
                        }
                        None => {
                            let _ = write!(
                                patient,
                                "<p class=\"note\">{}</p>",
                                w(l, "选择医疗机构后可办理入院。", "Choose the facility to admit the patient.")
                            );
                        }
                    }
                }
                patient.push_str("</section>");
            }
        }
    }
    if let Some(e) = &shown {
        b.push_str(&form_error(e));
    }
    b.push_str(&patient);

    if let Some(f) = &facility {
        let after = match q.after.trim() {
            "" => None,
            k => Some(k.parse::<app::desk::DeskKey>().map_err(WebError::BadRequest)?),
        };
        let (rows, next) = st.app.open_admissions(ctx.scope(), &f.facility_id, after, DESK_PAGE).await?;
        debug_assert!(rows.iter().all(open));
        let detail = match after {
            Some(k) => format!("{} open admissions (desk, after {k})", rows.len()),
            None => format!("{} open admissions (desk)", rows.len()),
        };
        audit(st, &ctx.user.username, "view_admissions", &f.facility_id, &detail).await?;
        let _ = write!(b, "<h2>{}</h2>", w(l, "在院及未结清", "Open admissions"));
        if rows.is_empty() {
            let _ = write!(b, "<p class=\"empty\">{}</p>", w(l, "无", "None"));
        }
        for a in &rows {
            b.push_str(&admission_card(ctx, refs, f, a));
        }
        let mut pager = String::new();
        if after.is_some() {
            let _ = write!(
                pager,
                "<a href=\"/desk?facility={}\" id=\"first-page\">{}</a> ",
                url(&f.facility_id),
                w(l, "第一页", "First page")
            );
        }
        if let Some(k) = next {
            let _ = write!(
                pager,
                "<a href=\"/desk?facility={}&amp;after={}\" id=\"next-page\" rel=\"next\">{}</a>",
                url(&f.facility_id),
                url(&k.to_string()),
                w(l, "下一页", "Next page")
            );
        }
        if !pager.is_empty() {
            let _ = write!(b, "<nav class=\"pager\">{pager}</nav>");
        }
    }
    let body = page(ctx, w(l, "住院结算窗口", "Hospital desk"), &b);
    Ok(with_status(body, shown.as_ref()))
}

/// One open admission: its facts, and the forms of the next step.
fn admission_card(ctx: &Ctx, refs: &app::PersonRefs, f: &domain::Facility, a: &app::desk::Admission) -> String {
    let l = ctx.lang;
    let m = ctx.masking();
    let may = ctx.may(Permission::Settle);
    let mut b = format!("<article class=\"admission\" id=\"admission-{}\"><h3>#{} ", a.id, a.id);
    let _ = write!(
        b,
        "<a href=\"{}\">{}</a> {}</h3><dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
        person_path(refs, a.person),
        esc(&m.name(&a.name)),
        esc(&m.id(a.person)),
        w(l, "入院日期", "Admitted"),
        a.admitted,
        w(l, "身份类别", "Status"),
        if l == Lang::Zh { a.status.zh() } else { a.status.as_str() },
        w(l, "免交押金", "Deposit waived"),
        yes_no(l, a.deposit_waived),
    );
    if let Some(c) = &a.claim_id {
        let _ = write!(
            b,
            "<dt>{}</dt><dd><a href=\"{}\" class=\"slip-link\">{}</a>{}</dd>",
            w(l, "结算单", "Claim"),
            slip_path(c, &a.facility_id),
            esc(c),
            if a.claim_voided { w(l, "（已作废）", " (voided)") } else { "" },
        );
    }
    let _ = write!(
        b,
        "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd class=\"balance\">{}</dd></dl>",
        w(l, "个人应付", "Owed"),
        a.owed,
        w(l, "已付", "Paid"),
        a.paid,
        w(l, "余额", "Balance"),
        a.balance(),
    );
    if !a.payments.is_empty() {
        b.push_str("<ul class=\"payments\">");
        for p in &a.payments {
            let _ = write!(b, "<li>{} · {} · {} · {}</li>", p.paid_on, p.amount, esc(&p.method), esc(&p.recorded_by));
        }
        b.push_str("</ul>");
    }
    if !may {
        b.push_str("</article>");
        return b;
    }
    let csrf = csrf_field(ctx);
    if a.claim_id.is_none() || a.claim_voided {
        // The bill settled in real time (as `POST /api/v1/settlements`) and named
        // on the admission at once; prefilled with what the desk knows.
        let kinds: String = ClaimKind::ALL
            .iter()
            .map(|k| {
                format!(
                    "<option value=\"{}\"{}>{} {}</option>",
                    k.as_str(),
                    if *k == ClaimKind::Inpatient { " selected" } else { "" },
                    k.zh(),
                    k.as_str()
                )
            })
            .collect();
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/desk/admissions/{id}/settle\" class=\"stack\" id=\"settle-form-{id}\">{csrf}\
<p class=\"note\">{lvl_l}: {lvl}</p>\
<label>{cl}<input name=\"claim_id\" required></label><label>{kd}<select name=\"kind\">{kinds}</select></label>\
<label>{ad}<input type=\"date\" name=\"admitted\" value=\"{admitted}\" required></label>\
<label>{dc}<input type=\"date\" name=\"discharged\" value=\"{today}\" required></label>\
<label>{tt}<input name=\"total_cost\" inputmode=\"decimal\"></label>\
<label>{el}<input name=\"eligible_cost\" inputmode=\"decimal\"></label>\
<label>{dg}<input name=\"diagnosis\"></label>\
<label class=\"check\"><input type=\"checkbox\" name=\"referred\" value=\"true\"> {rf}</label>{rows}<button type=\"submit\">{go}</button></form>",
            rf = w(l, "转诊（县域外就医持转诊单）", "Referred (care above the county with a referral)"),
            id = a.id,
            lvl_l = w(l, "机构级别", "Facility level"),
            lvl = if l == Lang::Zh { f.kind.level().zh() } else { f.kind.level().as_str() },
            cl = w(l, "结算单号", "Claim ID"),
            kd = w(l, "就诊类别", "Kind"),
            ad = w(l, "入院日期", "Admitted"),
            admitted = a.admitted,
            dc = w(l, "出院日期", "Discharged"),
            today = crate::work::today(),
            tt = w(l, "医疗总费用", "Total cost"),
            el = w(l, "政策范围内费用", "Eligible cost"),
            dg = w(l, "诊断", "Diagnosis"),
            rows = item_rows(l),
            go = w(l, "一站式结算", "Settle the bill"),
        );
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/desk/admissions/{id}/claim\" class=\"inline\" id=\"link-form-{id}\">{csrf}\
<label>{cl}<input name=\"claim_id\" required></label><button type=\"submit\">{go}</button></form>",
            id = a.id,
            cl = w(l, "已结算的结算单号", "Claim settled already"),
            go = w(l, "关联结算单", "Name the claim"),
        );
    } else if a.balance() > Fen::ZERO {
        let methods: String = app::desk::PAYMENT_METHODS
            .iter()
            .map(|(v, zh)| format!("<option value=\"{v}\">{}</option>", if l == Lang::Zh { zh } else { v }))
            .collect();
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/desk/admissions/{id}/payments\" class=\"stack\" id=\"pay-form-{id}\">{csrf}\
<label>{am}<input name=\"amount\" value=\"{bal}\" required inputmode=\"decimal\"></label>\
<label>{on}<input type=\"date\" name=\"paid_on\" value=\"{today}\" required></label>\
<label>{me}<select name=\"method\">{methods}</select></label><button type=\"submit\">{go}</button></form>",
            id = a.id,
            am = w(l, "金额（元）", "Amount (yuan)"),
            bal = a.balance(),
            on = w(l, "缴费日期", "Paid on"),
            today = crate::work::today(),
            me = w(l, "方式", "Method"),
            go = w(l, "收款", "Take the payment"),
        );
    }
    b.push_str("</article>");
    b
}

/// The lines of an itemised bill on the settle form: code, quantity and unit
/// price per row (the amount is quantity × unit price, rounded half up to the
/// fen); rows left empty are skipped.
const ITEM_ROWS: usize = 10;

fn item_rows(l: Lang) -> String {
    let mut b = format!(
        "<fieldset class=\"bill-items\"><legend>{}</legend><p class=\"note\">{}</p>\
<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        w(l, "费用明细（按目录结算）", "The bill's items (settled against the catalogue)"),
        w(
            l,
            "填写明细时，政策范围内费用由目录计算（请留空），医疗总费用可留空（为明细金额之和）。",
            "With items, the eligible cost is computed from the catalogue (leave it empty); the total cost may be left empty (the items' sum)."
        ),
        w(l, "项目编码", "Item code"),
        w(l, "数量", "Quantity"),
        w(l, "单价（元）", "Unit price (yuan)"),
    );
    for i in 0..ITEM_ROWS {
        let _ = write!(
            b,
            "<tr><td><input name=\"item_code\" aria-label=\"item_code {i}\"></td>\
<td><input name=\"quantity\" inputmode=\"decimal\" aria-label=\"quantity {i}\"></td>\
<td><input name=\"unit_price\" inputmode=\"decimal\" aria-label=\"unit_price {i}\"></td></tr>"
        );
    }
    b.push_str("</tbody></table></fieldset>");
    b
}

/// After a desk form: back to the facility's desk, or the page again with the
/// refusal the API would answer (400/409/422); not found and forbidden are
/// error pages.
async fn after(st: &AppState, ctx: &Ctx, q: DeskQuery, r: Result<(), WebError>) -> PageResult {
    match r {
        Ok(()) => {
            let mut to = format!("/desk?facility={}", url(&q.facility));
            if !q.person.is_empty() {
                let _ = write!(to, "&person={}", url(&q.person));
            }
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if crate::work::shown_on_page(&e) => desk_view(st, ctx, &q, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct AdmitForm {
    #[serde(default)]
    facility: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    admitted: String,
}

async fn admit_form(State(st): State<AppState>, PageUser(ctx): PageUser, Form(f): Form<AdmitForm>) -> PageResult {
    ctx.require(Permission::Settle)?;
    let facility = facility_param(&f.facility)?;
    st.app.facility_in_scope(ctx.scope(), &facility).await.map_err(WebError::from)?;
    let pid = person_param(&st, &ctx, &f.person).await?;
    let reference = st.app.person_refs().await?.reference(pid);
    let r = async {
        let admitted = date_or_today("admitted", &f.admitted)?;
        st.app.admit(ctx.scope(), pid, &facility, admitted, &ctx.user.username).await?;
        Ok(())
    }
    .await;
    after(&st, &ctx, DeskQuery { facility, person: reference, after: String::new() }, r).await
}

/// An admission of the scope (else 404) and the desk of its facility.
async fn admission_in_scope(st: &AppState, ctx: &Ctx, id: &str) -> Result<(app::desk::Admission, DeskQuery), WebError> {
    ctx.require(Permission::Settle)?;
    let id = page_admission_id(id)?;
    let found = match st.app.admission(ctx.scope(), id).await {
        // Another facility's admission to a clerk bound to one: refused, audited.
        Err(app::AppError::Forbidden(m)) => {
            audit(st, &ctx.user.username, "facility_refused", &format!("admission {id}"), &m).await?;
            return Err(WebError::Forbidden(m));
        }
        r => r?,
    };
    let Some(a) = found else { return Err(WebError::not_found("admission")) };
    let q = DeskQuery { facility: a.facility_id.clone(), person: String::new(), after: String::new() };
    Ok((a, q))
}

/// The settle form: its fields, and the item rows (`item_code`, `quantity`,
/// `unit_price`, repeated in row order).
#[derive(Default)]
struct SettleForm {
    claim_id: String,
    kind: String,
    admitted: String,
    discharged: String,
    total_cost: String,
    eligible_cost: String,
    diagnosis: String,
    /// The referral checkbox: ticked (`true`) or left out.
    referred: bool,
    item_code: Vec<String>,
    quantity: Vec<String>,
    unit_price: Vec<String>,
}

impl SettleForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> SettleForm {
        let mut f = SettleForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "claim_id" => f.claim_id = v,
                "kind" => f.kind = v,
                "admitted" => f.admitted = v,
                "discharged" => f.discharged = v,
                "total_cost" => f.total_cost = v,
                "eligible_cost" => f.eligible_cost = v,
                "diagnosis" => f.diagnosis = v,
                "referred" => f.referred = domain::parse_bool(&v).unwrap_or(true),
                "item_code" => f.item_code.push(v),
                "quantity" => f.quantity.push(v),
                "unit_price" => f.unit_price.push(v),
                _ => {}
            }
        }
        f
    }

    /// The filled item rows, as the API's lines (a row with a field missing is
    /// refused by the API's checks).
    fn items(&self) -> Vec<crate::settlement::ItemIn> {
        let n = self.item_code.len().max(self.quantity.len()).max(self.unit_price.len());
        let at = |v: &Vec<String>, i: usize| v.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
        (0..n)
            .map(|i| (at(&self.item_code, i), at(&self.quantity, i), at(&self.unit_price, i)))
            .filter(|(c, q, p)| !(c.is_empty() && q.is_empty() && p.is_empty()))
            .map(|(c, q, p)| crate::settlement::ItemIn {
                item_code: c,
                quantity: crate::settlement::Amount(q),
                unit_price: crate::settlement::Amount(p),
                amount: None,
            })
            .collect()
    }
}

/// Settles the admission's bill in real time, as `POST /api/v1/settlements`
/// does (the claim checked as a file row is, the person and the facility the
/// admission's, the level the facility's), and names the claim on it.
async fn settle_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let f = SettleForm::from_pairs(pairs);
    let (a, q) = admission_in_scope(&st, &ctx, &id).await?;
    let r = async {
        let facility = st.app.facility_in_scope(ctx.scope(), &a.facility_id).await?;
        let person = a.person.to_string();
        let level = facility.kind.level();
        let items = f.items();
        if !items.is_empty() && !f.eligible_cost.trim().is_empty() {
            return Err(WebError::Unprocessable(
                "invalid claim: eligible_cost: a bill with items has its eligible cost computed from them; leave it empty"
                    .into(),
            ));
        }
        let (total, eligible) = if items.is_empty() {
            (f.total_cost.trim(), f.eligible_cost.trim())
        } else {
            (if f.total_cost.trim().is_empty() { "0" } else { f.total_cost.trim() }, "0")
        };
        let fields = [
            f.claim_id.trim(),
            person.as_str(),
            level.as_str(),
            f.kind.trim(),
            f.admitted.trim(),
            f.discharged.trim(),
            total,
            eligible,
            f.diagnosis.trim(),
            a.facility_id.as_str(),
            if f.referred { "true" } else { "false" },
        ];
        let claim =
            domain::Claim::from_fields(&fields).map_err(|e| WebError::Unprocessable(format!("invalid claim: {e}")))?;
        let settled = if items.is_empty() {
            st.app.settle_claim(ctx.scope(), claim, &ctx.user.username).await?
        } else {
            let lines = crate::settlement::bill_lines(&items)?;
            let total = (!f.total_cost.trim().is_empty()).then_some(claim.total_cost);
            st.app.settle_itemised(ctx.scope(), claim, total, &lines, &ctx.user.username).await?
        };
        st.app.link_admission_claim(ctx.scope(), a.id, &settled.claim.claim_id, &ctx.user.username).await?;
        Ok(())
    }
    .await;
    after(&st, &ctx, q, r).await
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    claim_id: String,
}

async fn link_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> PageResult {
    let (a, q) = admission_in_scope(&st, &ctx, &id).await?;
    let r = async {
        let claim = domain::parse_id("claim_id", f.claim_id.trim())
            .map_err(|e| WebError::BadRequest(format!("claim_id: {}", e.reason)))?;
        st.app.link_admission_claim(ctx.scope(), a.id, &claim, &ctx.user.username).await?;
        Ok(())
    }
    .await;
    after(&st, &ctx, q, r).await
}

#[derive(Deserialize)]
struct PayForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    paid_on: String,
    #[serde(default)]
    method: String,
}

async fn pay_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<PayForm>,
) -> PageResult {
    let (a, q) = admission_in_scope(&st, &ctx, &id).await?;
    let r = async {
        let amount = Fen::parse_yuan(f.amount.trim()).map_err(|e| WebError::BadRequest(format!("amount: {e}")))?;
        if amount <= Fen::ZERO {
            return Err(WebError::BadRequest("amount: a payment must be more than zero".into()));
        }
        let paid_on = date_or_today("paid_on", &f.paid_on)?;
        st.app.take_admission_payment(ctx.scope(), a.id, amount, paid_on, &f.method, &ctx.user.username).await?;
        Ok(())
    }
    .await;
    after(&st, &ctx, q, r).await
}

// ---------------------------------------------------------------- arrears

#[derive(Deserialize, Default)]
struct FacilityQuery {
    #[serde(default)]
    facility: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn arrears_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<FacilityQuery>,
) -> PageResult {
    let l = ctx.lang;
    let m = ctx.masking();
    let title = w(l, "欠费清单", "Arrears");
    let mut b = selector(&st, &ctx, "/desk/arrears", q.facility.trim(), "").await?;
    if q.facility.trim().is_empty() {
        return Ok(Html(page(&ctx, title, &b)).into_response());
    }
    let facility = facility_param(&q.facility)?;
    let as_of = crate::work::today();
    st.app.refuse_other_facility(ctx.scope(), &facility, &ctx.user.username, "the arrears").await?;
    let a = st.app.arrears(ctx.scope(), &facility, as_of).await?;
    let detail = format!("{} admissions in arrears, as of {as_of} (page)", a.rows.len());
    audit(&st, &ctx.user.username, "view_arrears", &facility, &detail).await?;
    let refs = st.app.person_refs().await?;
    let share = match a.paid_up_share() {
        Some(s) => format!("{:.1}% ({}/{})", s * 100.0, a.waived_paid_up, a.waived_settled),
        None => "—".into(),
    };
    let _ = write!(
        b,
        "<dl class=\"facts\" id=\"arrears-facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{as_of}</dd><dt>{}</dt><dd id=\"arrears-total\">{}</dd>\
<dt>{}</dt><dd id=\"paid-up-share\">{share}</dd></dl>",
        w(l, "医疗机构", "Facility"),
        esc(&facility),
        w(l, "统计日", "As of"),
        w(l, "欠费合计", "Total owed"),
        a.total,
        w(l, "免押金患者已结清比例", "Waived admissions paid up"),
    );
    let _ = write!(
        b,
        "<p class=\"note\"><a href=\"/desk?facility={}\">{}</a></p>",
        url(&facility),
        w(l, "返回结算窗口", "Back to the desk")
    );
    if a.rows.is_empty() {
        let _ = write!(b, "<p class=\"empty\" id=\"no-arrears\">{}</p>", w(l, "无欠费", "No arrears"));
    } else {
        let _ = write!(
            b,
            "<table id=\"arrears\"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            w(l, "患者", "Patient"),
            w(l, "入院日期", "Admitted"),
            w(l, "出院日期", "Discharged"),
            w(l, "欠费天数", "Days outstanding"),
            w(l, "应付", "Owed"),
            w(l, "已付", "Paid"),
            w(l, "余额", "Balance"),
        );
        for r in &a.rows {
            let x = &r.admission;
            let _ = write!(
                b,
                "<tr><td><a href=\"/desk?facility={}#admission-{}\">#{}</a></td><td><a href=\"{}\">{}</a> {}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                url(&facility),
                x.id,
                x.id,
                person_path(refs, x.person),
                esc(&m.name(&x.name)),
                esc(&m.id(x.person)),
                x.admitted,
                x.discharged.map(|d| d.to_string()).unwrap_or_default(),
                r.days_outstanding,
                x.owed,
                x.paid,
                x.balance(),
            );
        }
        b.push_str("</tbody></table>");
    }
    Ok(Html(page(&ctx, title, &b)).into_response())
}

// ---------------------------------------------------------------- reconciliation

async fn reconciliation_page(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Query(q): Query<FacilityQuery>,
) -> PageResult {
    if !(ctx.may(Permission::Settle) || ctx.may(Permission::Export)) {
        ctx.require(Permission::Settle)?;
    }
    let l = ctx.lang;
    let title = w(l, "与基金对账", "Reconciliation");
    let today = crate::work::today();
    let from = match q.from.trim() {
        "" => today - Duration::days(30),
        d => domain::parse_date(d).map_err(|e| WebError::BadRequest(format!("from: {e}")))?,
    };
    let to = date_or_today("to", &q.to)?;
    let period = format!(
        " <label>{} <input type=\"date\" name=\"from\" value=\"{from}\"></label> <label>{} <input type=\"date\" name=\"to\" value=\"{to}\"></label>",
        w(l, "自", "From"),
        w(l, "至", "To")
    );
    let mut b = selector(&st, &ctx, "/desk/reconciliation", q.facility.trim(), &period).await?;
    if q.facility.trim().is_empty() {
        return Ok(Html(page(&ctx, title, &b)).into_response());
    }
    let facility = facility_param(&q.facility)?;
    st.app.refuse_other_facility(ctx.scope(), &facility, &ctx.user.username, "the reconciliation").await?;
    let r = match st.app.reconcile(ctx.scope(), &facility, from, to).await {
        Ok(r) => r,
        Err(e @ (app::AppError::Invalid(_) | app::AppError::Conflict(_))) => {
            let e = WebError::from(e);
            b.push_str(&form_error(&e));
            return Ok(with_status(page(&ctx, title, &b), Some(&e)));
        }
        Err(e) => return Err(e.into()),
    };
    let detail = format!("page: {facility} from {from} to {to}, {} lines", r.lines.len());
    audit(&st, &ctx.user.username, "view_reconciliation", &facility, &detail).await?;
    let api = esc(&format!("/api/v1/facilities/{}/reconciliation?from={from}&to={to}", url(&facility)));
    let _ = write!(
        b,
        "<p class=\"note\" id=\"downloads\">{}: <a href=\"{api}&amp;format=xlsx\" id=\"download-xlsx\">XLSX</a>",
        w(l, "下载", "Download")
    );
    for fund in &r.funds {
        let _ = write!(
            b,
            " · <a href=\"{api}&amp;format=csv&amp;fund={}\" class=\"download-csv\">{} CSV</a>",
            url(fund),
            esc(fund)
        );
    }
    b.push_str("</p>");
    let kind_heads = format!(
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th>",
        w(l, "结算", "Settled"),
        w(l, "冲销", "Voided"),
        w(l, "更正", "Corrected"),
        w(l, "净额", "Net")
    );
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"reconciliation-totals\"><thead><tr><th>{}</th>{kind_heads}</tr></thead><tbody>",
        w(l, "期间合计", "The period"),
        w(l, "基金", "Fund")
    );
    for t in &r.totals {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&t.fund),
            t.settled,
            t.voided,
            t.corrected,
            t.net
        );
    }
    b.push_str("</tbody></table>");
    let _ = write!(
        b,
        "<h2>{}</h2><table id=\"reconciliation-days\"><thead><tr><th>{}</th><th>{}</th>{kind_heads}</tr></thead><tbody>",
        w(l, "逐日", "By day"),
        w(l, "日期", "Day"),
        w(l, "基金", "Fund")
    );
    for t in &r.days {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            t.day.map(|d| d.to_string()).unwrap_or_default(),
            esc(&t.fund),
            t.settled,
            t.voided,
            t.corrected,
            t.net
        );
    }
    b.push_str("</tbody></table>");
    if r.days.is_empty() {
        let _ = write!(b, "<p class=\"empty\">{}</p>", w(l, "本期无结算", "Nothing settled in the period"));
    }
    Ok(Html(page(&ctx, title, &b)).into_response())
}
