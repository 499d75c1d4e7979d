//! The registry by hand over HTTP (docs/work.md, "The registry by hand"):
//! households and persons created and changed one at a time, as JSON under
//! `/api/v1` and as forms on the household and person pages; and the two
//! settings of the daily work a county keeps itself, its own disease lists
//! (`/api/v1/catalogues/{kind}`) and the days to verify a case
//! (`/api/v1/case-deadlines/{region}`).
//!
//! The rules are the application's ([`app::registry`]): a form's fields are
//! checked as an import row's, a change names the record as it was read (its
//! entity tag, [`app::registry::etag`]) and needs a reason, and the application
//! writes the audit row itself. What this module checks is the input: text no
//! store keeps (control characters, overlong values), the tag's form, a key
//! that may not change; a bad field is a 400 naming it. A household, person,
//! village or region outside the caller's scope is a 404 on every path, exactly
//! like one that does not exist. Every write needs [`Permission::Work`]
//! (officers and administrators); so does a case deadline, a setting of the
//! casework.

use crate::access::{Masking, Permission};
use crate::api::{household_out, person_param, person_path, ApiJson, HouseholdOut, PersonOut};
use crate::auth::{ApiUser, Ctx, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, url};
use crate::i18n::{t, Lang};
use crate::work::{refused, text};
use crate::AppState;
use app::registry::{etag, fields_of, record_from};
use app::AppError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{patch, post, put};
use axum::{Form, Json, Router};
use domain::{Household, Person, PovertyStatus, RegionCode, ResidentId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/households", post(create_household))
        .route("/households/{id}", patch(change_household))
        .route("/persons", post(create_person))
        .route("/persons/{id}", patch(change_person))
        .route("/catalogues/{kind}", post(add_catalogue_entry))
        .route("/case-deadlines/{region}", put(set_case_deadline))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/households", post(create_household_form))
        .route("/households/{id}/edit", post(change_household_form))
        .route("/persons", post(create_person_form))
        .route("/persons/{id}/edit", post(change_person_form))
}

// ---------------------------------------------------------------- input

/// The longest value of one field (a name is at most 50 characters, an ID 64;
/// the record's own checks say so with their reasons).
const FIELD_MAX: usize = 1000;

/// A form's or a request's fields, each checked for what no store keeps.
fn checked_fields(fields: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, WebError> {
    let mut out = BTreeMap::new();
    for (k, v) in fields {
        let name = text("fields", &k, true, 64, false)?;
        let v = text(&name, &v, false, FIELD_MAX, false)?;
        out.insert(name, v);
    }
    Ok(out)
}

/// A request's fields: text, a number (`"size": 3`), null (an empty optional
/// field) or, for `diagnoses`, a list of codes.
fn json_fields(fields: BTreeMap<String, Value>) -> Result<BTreeMap<String, String>, WebError> {
    let mut out = BTreeMap::new();
    for (k, v) in fields {
        let s = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            Value::Array(items) if k == "diagnoses" => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| WebError::BadRequest("diagnoses: a list of ICD-10 codes as text".into()))?
                .join(";"),
            _ => return Err(WebError::BadRequest(format!("{}: give text or a number", k.escape_debug()))),
        };
        out.insert(k, s);
    }
    checked_fields(out)
}

/// The entity tag a change names: as `GET` answers it.
fn tag(v: &str) -> Result<String, WebError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(WebError::BadRequest("etag: required; send the etag of the record as you read it".into()));
    }
    if t.len() != 16 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::BadRequest(format!(
            "etag: {:?} is not an entity tag (16 hexadecimal digits, as GET answers it)",
            t.chars().take(40).collect::<String>()
        )));
    }
    Ok(t.to_ascii_lowercase())
}

fn reason(v: &str) -> Result<String, WebError> {
    let r = text("reason", v, false, 500, true)?;
    if r.is_empty() {
        return Err(WebError::BadRequest("reason: required; say why the record changes".into()));
    }
    Ok(r)
}

/// A change may not touch the record's key: the path names it.
fn same_key(fields: &BTreeMap<String, String>, column: &str, key: &str) -> Result<(), WebError> {
    match fields.get(column).map(|v| v.trim()).filter(|v| !v.is_empty() && *v != key) {
        Some(v) => {
            Err(WebError::BadRequest(format!("{column}: {v:?} differs from {key:?}; the {column} cannot change")))
        }
        None => Ok(()),
    }
}

/// The record with the fields laid over it, as the application will make it;
/// refused when nothing changes.
fn changed<R: domain::Record + PartialEq>(before: &R, fields: &BTreeMap<String, String>) -> Result<R, WebError> {
    let mut all = fields_of(before);
    all.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    let after: R = record_from(&all).map_err(refused)?;
    if &after == before {
        return Err(WebError::BadRequest(
            "fields: nothing changes; send the fields to change with their new values".into(),
        ));
    }
    Ok(after)
}

fn stale(what: &str, id: &str) -> WebError {
    WebError::Conflict(format!("{what} {id} changed since you read it; reload it and make your change again"))
}

// ---------------------------------------------------------------- the application's calls

async fn household_of(st: &AppState, ctx: &Ctx, id: &str) -> Result<Household, WebError> {
    st.app.household_in_scope(ctx.scope(), id).await.map_err(|e| match e {
        AppError::NotFound(_) => WebError::not_found("household"),
        other => refused(other),
    })
}

async fn person_of(st: &AppState, ctx: &Ctx, pid: ResidentId) -> Result<Person, WebError> {
    st.app.person_in_scope(ctx.scope(), &pid.to_string()).await.map_err(|e| match e {
        AppError::NotFound(_) => WebError::not_found("person"),
        other => refused(other),
    })
}

/// A person's tag as `GET /persons/{id}` answers it: none for a role that sees
/// the person masked (the tag is made of the fields in clear, and such a role
/// may not change the record anyway).
pub(crate) async fn person_etag(st: &AppState, ctx: &Ctx, pid: ResidentId) -> Result<Option<String>, WebError> {
    if ctx.masking() != Masking::Clear {
        return Ok(None);
    }
    Ok(Some(etag(&person_of(st, ctx, pid).await?)))
}

/// A village the caller named that is not in the scope (or nowhere).
fn village_outside(fields: &BTreeMap<String, String>) -> WebError {
    let v = fields.get("village_code").map(|v| v.trim()).unwrap_or("");
    WebError::NotFound(format!("village_code: village {v:?} not found in your scope"))
}

fn household_outside(fields: &BTreeMap<String, String>) -> WebError {
    let h = fields.get("household_id").map(|v| v.trim()).unwrap_or("");
    WebError::NotFound(format!("household_id: household {h:?} not found in your scope"))
}

async fn new_household(st: &AppState, ctx: &Ctx, fields: &BTreeMap<String, String>) -> Result<Household, WebError> {
    st.app.create_household(ctx.scope(), fields, &ctx.user.username).await.map_err(|e| match e {
        AppError::NotFound(_) => village_outside(fields),
        other => refused(other),
    })
}

/// Changes the household read with `etag`; `fields` are those that change.
async fn edit_household(
    st: &AppState,
    ctx: &Ctx,
    id: &str,
    etag_read: &str,
    why: &str,
    fields: &BTreeMap<String, String>,
) -> Result<Household, WebError> {
    let tag = tag(etag_read)?;
    let why = reason(why)?;
    same_key(fields, "household_id", id)?;
    let before = household_of(st, ctx, id).await?;
    if etag(&before) != tag {
        return Err(stale("household", id));
    }
    changed(&before, fields)?;
    st.app.change_household_tagged(ctx.scope(), id, &tag, fields, &why, &ctx.user.username).await.map_err(|e| match e {
        // The household was read in scope: what is not is the village it moves to.
        AppError::NotFound(_) => village_outside(fields),
        other => refused(other),
    })
}

async fn new_person(st: &AppState, ctx: &Ctx, fields: &BTreeMap<String, String>) -> Result<Person, WebError> {
    st.app.create_person(ctx.scope(), fields, &ctx.user.username).await.map_err(|e| match e {
        AppError::NotFound(_) => household_outside(fields),
        other => refused(other),
    })
}

async fn edit_person(
    st: &AppState,
    ctx: &Ctx,
    pid: ResidentId,
    etag_read: &str,
    why: &str,
    fields: &BTreeMap<String, String>,
) -> Result<Person, WebError> {
    let tag = tag(etag_read)?;
    let why = reason(why)?;
    let id = pid.to_string();
    same_key(fields, "person_id", &id)?;
    let before = person_of(st, ctx, pid).await?;
    if etag(&before) != tag {
        return Err(stale("person", &id));
    }
    changed(&before, fields)?;
    st.app.change_person_tagged(ctx.scope(), &id, &tag, fields, &why, &ctx.user.username).await.map_err(|e| match e {
        // The person was read in scope: what is not is the household they move to.
        AppError::NotFound(_) => household_outside(fields),
        other => refused(other),
    })
}

// ---------------------------------------------------------------- JSON

#[derive(Serialize)]
struct HouseholdTagged {
    #[serde(flatten)]
    household: HouseholdOut,
    etag: String,
}

fn household_tagged(h: &Household) -> HouseholdTagged {
    HouseholdTagged { household: household_out(h), etag: etag(h) }
}

#[derive(Serialize)]
struct PersonTagged {
    #[serde(flatten)]
    person: PersonOut,
    /// None for a role that sees the person masked.
    etag: Option<String>,
}

async fn person_tagged(st: &AppState, ctx: &Ctx, p: &Person) -> Result<PersonTagged, WebError> {
    let village: RegionCode = household_of(st, ctx, &p.household_id).await?.village_code;
    let m = ctx.masking();
    let refs = st.app.person_refs().await?;
    Ok(PersonTagged {
        person: PersonOut {
            person_ref: refs.reference(p.person_id),
            person_id: m.id(p.person_id),
            household_id: p.household_id.clone(),
            name: m.name(&p.name),
            status: p.status.to_string(),
            status_since: p.status_since.to_string(),
            village_code: village.to_string(),
            diagnoses: p.diagnoses.clone(),
        },
        etag: (m == Masking::Clear).then(|| etag(p)),
    })
}

fn created<T: Serialize>(body: T) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateIn {
    fields: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeIn {
    etag: String,
    reason: String,
    fields: BTreeMap<String, Value>,
}

async fn create_household(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<CreateIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Work)?;
    let fields = json_fields(b.fields)?;
    let h = new_household(&st, &ctx, &fields).await?;
    Ok(created(household_tagged(&h)))
}

async fn change_household(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ChangeIn>,
) -> Result<Json<HouseholdTagged>, WebError> {
    ctx.require(Permission::Work)?;
    let id = text("household ID", &id, true, 64, false)?;
    let fields = json_fields(b.fields)?;
    let h = edit_household(&st, &ctx, &id, &b.etag, &b.reason, &fields).await?;
    Ok(Json(household_tagged(&h)))
}

async fn create_person(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<CreateIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Work)?;
    let fields = json_fields(b.fields)?;
    let p = new_person(&st, &ctx, &fields).await?;
    Ok(created(person_tagged(&st, &ctx, &p).await?))
}

async fn change_person(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ChangeIn>,
) -> Result<Json<PersonTagged>, WebError> {
    ctx.require(Permission::Work)?;
    let pid = person_param(&st, &ctx, &id).await?;
    let fields = json_fields(b.fields)?;
    let p = edit_person(&st, &ctx, pid, &b.etag, &b.reason, &fields).await?;
    Ok(Json(person_tagged(&st, &ctx, &p).await?))
}

// ---------------------------------------------------------------- catalogues and deadlines

/// A region prefix (2, 4, 6, 9 or 12 digits) inside the caller's scope; one
/// outside it is not found.
fn region_in_scope(ctx: &Ctx, v: &str) -> Result<String, WebError> {
    let t = text("region", v, true, 12, false)?;
    let region = domain::region::parse_prefix(&t).map_err(|e| WebError::BadRequest(format!("region: {e}")))?;
    if !region.starts_with(ctx.scope().prefix()) {
        return Err(WebError::NotFound(format!("region: {region:?} not found in your scope")));
    }
    Ok(region)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueEntryIn {
    region: String,
    name_zh: String,
    name_en: String,
    icd10_prefixes: Vec<String>,
    since: Option<i32>,
}

#[derive(Serialize)]
struct CatalogueEntryOut {
    kind: String,
    region: String,
    name_zh: String,
    name_en: String,
    icd10_prefixes: Vec<String>,
    since: Option<i32>,
}

fn catalogue_entry(b: &CatalogueEntryIn) -> Result<domain::CatalogueEntry, WebError> {
    let name_zh = text("name_zh", &b.name_zh, true, 100, false)?;
    let name_en = text("name_en", &b.name_en, false, 200, false)?;
    if b.icd10_prefixes.is_empty() || b.icd10_prefixes.len() > 100 {
        return Err(WebError::BadRequest("icd10_prefixes: one to a hundred ICD-10 codes or prefixes".into()));
    }
    let mut prefixes = Vec::new();
    for p in &b.icd10_prefixes {
        let p = domain::parse_icd10(p).map_err(|e| WebError::BadRequest(format!("icd10_prefixes: {e}")))?;
        if !prefixes.contains(&p) {
            prefixes.push(p);
        }
    }
    let since = match b.since {
        None => None,
        Some(y) => Some(domain::parse_year(&y.to_string()).map_err(|e| WebError::BadRequest(format!("since: {e}")))?),
    };
    Ok(domain::CatalogueEntry { name_zh, name_en, icd10_prefixes: prefixes, since })
}

/// Adds a disease to a region's own serious or chronic list.
async fn add_catalogue_entry(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(kind): Path<String>,
    ApiJson(b): ApiJson<CatalogueEntryIn>,
) -> Result<Response, WebError> {
    ctx.require(Permission::Work)?;
    let kind = match kind.as_str() {
        k @ ("serious" | "chronic") => k.to_string(),
        other => {
            let other: String = other.chars().take(40).collect();
            return Err(WebError::BadRequest(format!(
                "kind: {other:?} is not a catalogue; expected serious or chronic"
            )));
        }
    };
    let entry = catalogue_entry(&b)?;
    let region = region_in_scope(&ctx, &b.region)?;
    st.app.add_catalogue_entry(ctx.scope(), &kind, &region, &entry, &ctx.user.username).await.map_err(|e| match e {
        AppError::NotFound(_) => WebError::NotFound(format!("region: {region:?} not found in your scope")),
        other => refused(other),
    })?;
    Ok(created(CatalogueEntryOut {
        kind,
        region,
        name_zh: entry.name_zh,
        name_en: entry.name_en,
        icd10_prefixes: entry.icd10_prefixes,
        since: entry.since,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseDeadlineIn {
    verify_days: i64,
    /// Days to close; absent or null for the default (or the days a wider
    /// region sets).
    #[serde(default)]
    close_days: Option<i64>,
}

#[derive(Serialize)]
struct CaseDeadlineOut {
    region: String,
    verify_days: i64,
    close_days: Option<i64>,
}

/// Sets the days to verify and to close the cases opened in a region inside
/// the scope.
async fn set_case_deadline(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(region): Path<String>,
    ApiJson(b): ApiJson<CaseDeadlineIn>,
) -> Result<Json<CaseDeadlineOut>, WebError> {
    ctx.require(Permission::Work)?;
    if !(1..=365).contains(&b.verify_days) {
        return Err(WebError::BadRequest(format!("verify_days: {} is not between 1 and 365", b.verify_days)));
    }
    if let Some(c) = b.close_days.filter(|c| !(b.verify_days..=730).contains(c)) {
        return Err(WebError::BadRequest(format!(
            "close_days: {c} is not between the {} days to verify and 730",
            b.verify_days
        )));
    }
    let region = region_in_scope(&ctx, &region)?;
    let user = &ctx.user.username;
    st.app.set_case_deadline(ctx.scope(), &region, b.verify_days, b.close_days, user).await.map_err(refused)?;
    Ok(Json(CaseDeadlineOut { region, verify_days: b.verify_days, close_days: b.close_days }))
}

// ---------------------------------------------------------------- pages: forms

/// What a refused form held, to draw it again as it was sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Draft {
    /// The `id` of the form.
    pub(crate) form: &'static str,
    pub(crate) fields: BTreeMap<String, String>,
    pub(crate) etag: String,
    pub(crate) reason: String,
}

impl Draft {
    fn of(form: &'static str, fields: &BTreeMap<String, String>, etag: &str, reason: &str) -> Draft {
        Draft { form, fields: fields.clone(), etag: etag.to_string(), reason: reason.to_string() }
    }
}

/// The value a form's field shows: what the refused form held, or the record's.
fn shown<'a>(draft: Option<&'a Draft>, form: &str, name: &str, current: &'a str) -> &'a str {
    match draft.filter(|d| d.form == form) {
        Some(d) => d.fields.get(name).map(String::as_str).unwrap_or(""),
        None => current,
    }
}

fn status_options(l: Lang, selected: &str) -> String {
    let mut o = String::new();
    for s in PovertyStatus::ALL {
        let label = match l {
            Lang::Zh => s.zh(),
            Lang::En => s.as_str(),
        };
        let sel = if selected == s.as_str() || selected == s.zh() { " selected" } else { "" };
        let _ = write!(o, "<option value=\"{}\"{sel}>{}</option>", s.as_str(), esc(label));
    }
    o
}

/// The inputs of a household's fields (not its ID).
fn household_inputs(l: Lang, v: &dyn Fn(&str) -> String) -> String {
    format!(
        "<label>{vc}<input name=\"village_code\" value=\"{village}\" required inputmode=\"numeric\" maxlength=\"12\"></label>\
<label>{sz}<input name=\"size\" type=\"number\" min=\"1\" max=\"99\" value=\"{size}\" required></label>\
<label>{inc}<input name=\"income\" inputmode=\"decimal\" value=\"{income}\" required></label>\
<label>{con}<input name=\"consumption\" inputmode=\"decimal\" value=\"{consumption}\"></label>\
<label>{fd}<input name=\"food\" inputmode=\"decimal\" value=\"{food}\"></label>",
        vc = t(l, "village_code"),
        village = v("village_code"),
        sz = t(l, "size"),
        size = v("size"),
        inc = t(l, "income"),
        income = v("income"),
        con = t(l, "consumption"),
        consumption = v("consumption"),
        fd = t(l, "food"),
        food = v("food"),
    )
}

/// The inputs of a person's fields but their ID and household.
fn person_inputs(l: Lang, v: &dyn Fn(&str) -> String) -> String {
    format!(
        "<label>{nm}<input name=\"name\" value=\"{name}\" required maxlength=\"50\"></label>\
<label>{st}<select name=\"status\">{opts}</select></label>\
<label>{ss}<input name=\"status_since\" type=\"date\" value=\"{since}\" required></label>\
<label>{dg}<input name=\"diagnoses\" value=\"{diag}\" placeholder=\"{hint}\"></label>",
        nm = t(l, "name"),
        name = v("name"),
        st = t(l, "status"),
        opts = status_options(l, &v("status")),
        ss = t(l, "status_since"),
        since = v("status_since"),
        dg = t(l, "diagnoses"),
        diag = v("diagnoses"),
        hint = t(l, "diagnoses_hint"),
    )
}

fn reason_input(l: Lang, value: &str) -> String {
    format!(
        "<label>{}<input name=\"reason\" value=\"{}\" required maxlength=\"500\"></label>",
        t(l, "change_reason"),
        esc(value)
    )
}

/// The new-household form of the households page (for users who do the work).
pub(crate) fn new_household_form(ctx: &Ctx, draft: Option<&Draft>) -> String {
    if !ctx.may(Permission::Work) {
        return String::new();
    }
    let l = ctx.lang;
    const FORM: &str = "new-household-form";
    let v = |name: &str| esc(shown(draft, FORM, name, ""));
    format!(
        "<h2>{title}</h2><form method=\"post\" action=\"/households\" class=\"stack\" id=\"{FORM}\">{csrf}\
<label>{hh}<input name=\"household_id\" value=\"{id}\" required maxlength=\"64\"></label>{inputs}\
<button type=\"submit\">{create}</button></form>",
        title = t(l, "new_household"),
        csrf = csrf_field(ctx),
        hh = t(l, "household"),
        id = v("household_id"),
        inputs = household_inputs(l, &v),
        create = t(l, "create"),
    )
}

/// The household page's part of the registry: the form to change the
/// household (its fields as read, with their tag) and the form to add a member.
pub(crate) fn household_forms(ctx: &Ctx, h: &Household, draft: Option<&Draft>) -> String {
    if !ctx.may(Permission::Work) {
        return String::new();
    }
    let l = ctx.lang;
    const EDIT: &str = "household-form";
    const NEW: &str = "new-person-form";
    let fields = fields_of(h);
    let current = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let v = |name: &str| esc(shown(draft, EDIT, name, &current(name)));
    let mine = draft.filter(|d| d.form == EDIT);
    let mut b = format!(
        "<h2>{title}</h2><form method=\"post\" action=\"/households/{hid}/edit\" class=\"stack\" id=\"{EDIT}\">{csrf}\
<input type=\"hidden\" name=\"etag\" value=\"{tag}\">{inputs}{why}<button type=\"submit\">{save}</button></form>",
        title = t(l, "change_household"),
        hid = url(&h.household_id),
        csrf = csrf_field(ctx),
        tag = esc(&mine.map(|d| d.etag.clone()).unwrap_or_else(|| etag(h))),
        inputs = household_inputs(l, &v),
        why = reason_input(l, mine.map(|d| d.reason.as_str()).unwrap_or("")),
        save = t(l, "save"),
    );
    let n = |name: &str| esc(shown(draft, NEW, name, if name == "status" { "general" } else { "" }));
    let _ = write!(
        b,
        "<h2>{title}</h2><form method=\"post\" action=\"/persons\" class=\"stack\" id=\"{NEW}\">{csrf}\
<input type=\"hidden\" name=\"household_id\" value=\"{hid}\">\
<label>{pl}<input name=\"person_id\" value=\"{pid}\" required maxlength=\"18\"></label>{inputs}\
<button type=\"submit\">{create}</button></form>",
        title = t(l, "new_person"),
        csrf = csrf_field(ctx),
        hid = esc(&h.household_id),
        pl = t(l, "person_id"),
        pid = n("person_id"),
        inputs = person_inputs(l, &n),
        create = t(l, "create"),
    );
    b
}

/// The person page's form to change the record (its fields as read, in clear,
/// with their tag), for users who do the work.
pub(crate) async fn person_form(
    st: &AppState,
    ctx: &Ctx,
    pid: ResidentId,
    draft: Option<&Draft>,
) -> Result<String, WebError> {
    if !ctx.may(Permission::Work) {
        return Ok(String::new());
    }
    let l = ctx.lang;
    const EDIT: &str = "person-form";
    let p = person_of(st, ctx, pid).await?;
    let fields = fields_of(&p);
    let current = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let v = |name: &str| esc(shown(draft, EDIT, name, &current(name)));
    let mine = draft.filter(|d| d.form == EDIT);
    Ok(format!(
        "<h2>{title}</h2><form method=\"post\" action=\"{path}/edit\" class=\"stack\" id=\"{EDIT}\">{csrf}\
<input type=\"hidden\" name=\"etag\" value=\"{tag}\">{inputs}\
<label>{hl}<input name=\"household_id\" value=\"{hh}\" required maxlength=\"64\"></label>{why}\
<button type=\"submit\">{save}</button></form>",
        title = t(l, "change_person"),
        path = person_path(st.app.person_refs().await?, pid),
        csrf = csrf_field(ctx),
        tag = esc(&mine.map(|d| d.etag.clone()).unwrap_or_else(|| etag(&p))),
        inputs = person_inputs(l, &v),
        hl = t(l, "household"),
        hh = v("household_id"),
        why = reason_input(l, mine.map(|d| d.reason.as_str()).unwrap_or("")),
        save = t(l, "save"),
    ))
}

type PageResult = Result<Response, PageError>;

/// A form's fields: everything it sent but its security token, its tag and its
/// reason, which are taken out.
fn form_parts(mut f: BTreeMap<String, String>) -> (BTreeMap<String, String>, String, String) {
    f.remove("csrf");
    let tag = f.remove("etag").unwrap_or_default();
    let why = f.remove("reason").unwrap_or_default();
    (f, tag, why)
}

/// The refusals a form answers on its page drawn again (a missing household or
/// village the form named among them); the rest are error pages.
fn redrawn(e: &WebError) -> bool {
    crate::work::shown_on_page(e) || matches!(e, WebError::NotFound(_))
}

/// The draft to draw again: none after a conflict, whose page shows the record
/// as it is now with its new tag.
fn draft_after(e: &WebError, d: Draft) -> Option<Draft> {
    (!matches!(e, WebError::Conflict(_))).then_some(d)
}

async fn create_household_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<BTreeMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let (fields, _, _) = form_parts(f);
    let r = async { new_household(&st, &ctx, &checked_fields(fields.clone())?).await }.await;
    match r {
        Ok(h) => Ok(Redirect::to(&format!("/households/{}", url(&h.household_id))).into_response()),
        Err(e) if redrawn(&e) => {
            let d = Draft::of("new-household-form", &fields, "", "");
            crate::pages::households_view(&st, &ctx, "", Some(e), Some(&d)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn change_household_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let id = text("household ID", &id, true, 64, false).map_err(|_| WebError::not_found("household"))?;
    let (fields, tag, why) = form_parts(f);
    let r = async { edit_household(&st, &ctx, &id, &tag, &why, &checked_fields(fields.clone())?).await }.await;
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/households/{}", url(&id))).into_response()),
        Err(e) if redrawn(&e) => {
            let d = draft_after(&e, Draft::of("household-form", &fields, &tag, &why));
            crate::pages::household_page(&st, &ctx, &id, Some(e), d.as_ref()).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_person_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Form(f): Form<BTreeMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let (fields, _, _) = form_parts(f);
    let household = fields.get("household_id").cloned().unwrap_or_default();
    let household = text("household_id", &household, true, 64, false).map_err(|_| WebError::not_found("household"))?;
    let r = async {
        let p = new_person(&st, &ctx, &checked_fields(fields.clone())?).await?;
        Ok::<_, WebError>(p)
    }
    .await;
    match r {
        Ok(p) => Ok(Redirect::to(&person_path(st.app.person_refs().await?, p.person_id)).into_response()),
        Err(e) if redrawn(&e) => {
            let d = Draft::of("new-person-form", &fields, "", "");
            crate::pages::household_page(&st, &ctx, &household, Some(e), Some(&d)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn change_person_form(
    State(st): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> PageResult {
    ctx.require(Permission::Work)?;
    let pid = person_param(&st, &ctx, &id).await?;
    let (fields, tag, why) = form_parts(f);
    let r = async { edit_person(&st, &ctx, pid, &tag, &why, &checked_fields(fields.clone())?).await }.await;
    match r {
        Ok(_) => Ok(Redirect::to(&person_path(st.app.person_refs().await?, pid)).into_response()),
        Err(e) if redrawn(&e) => {
            let d = draft_after(&e, Draft::of("person-form", &fields, &tag, &why));
            crate::pages::person_page(&st, &ctx, pid, Some(e), d.as_ref()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: WebError) -> String {
        assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e}");
        e.to_string()
    }

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn fields_are_named_in_the_refusals() {
        assert!(msg(tag("").unwrap_err()).starts_with("etag:"));
        assert!(msg(tag("xyz").unwrap_err()).starts_with("etag:"));
        assert_eq!(tag(" 00FF00ff00ff00ff ").unwrap(), "00ff00ff00ff00ff");
        assert!(msg(reason("  ").unwrap_err()).starts_with("reason:"));
        assert!(msg(checked_fields(map(&[("name", "a\u{0}b")])).unwrap_err()).starts_with("name:"));
        assert!(msg(same_key(&map(&[("household_id", "H2")]), "household_id", "H1").unwrap_err())
            .starts_with("household_id:"));
        assert!(same_key(&map(&[("household_id", " H1 ")]), "household_id", "H1").is_ok());
        let j: BTreeMap<String, Value> =
            serde_json::from_str(r#"{"size": 3, "food": null, "diagnoses": ["C16", "I10"]}"#).unwrap();
        assert_eq!(json_fields(j).unwrap(), map(&[("size", "3"), ("food", ""), ("diagnoses", "C16;I10")]));
        let j: BTreeMap<String, Value> = serde_json::from_str(r#"{"size": [3]}"#).unwrap();
        assert!(msg(json_fields(j).unwrap_err()).starts_with("size:"));
        let h: Household = record_from(&map(&[
            ("household_id", "H1"),
            ("village_code", "341122100201"),
            ("size", "3"),
            ("income", "30000"),
        ]))
        .unwrap();
        assert!(msg(changed(&h, &map(&[("income", "30000.00")])).unwrap_err()).starts_with("fields:"));
        assert_eq!(changed(&h, &map(&[("size", "4")])).unwrap().size, 4);
        assert!(msg(changed(&h, &map(&[("size", "0")])).unwrap_err()).starts_with("size:"));
    }
}
