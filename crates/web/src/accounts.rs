//! Accounts on the web: the administrators' users page (make users, turn them
//! off and on, reset a password, see and revoke every token of their scope),
//! each user's account page (change one's password, make, see and revoke one's
//! API tokens), and the tokens in the API (`/api/v1/tokens`).
//!
//! The rules are the application's ([`app::accounts`]); this module checks the
//! forms, hashes and checks passwords off the request threads ([`crate::auth`])
//! and draws the answers. A refused form is drawn again with the refusal above
//! it and the refusal's status.

use crate::access::{Permission, Role, Scope};
use crate::api::{ApiJson, List};
use crate::auth::{self, audit, ApiUser, Ctx, LoginOutcome, PageUser};
use crate::error::{PageError, WebError};
use crate::html::{csrf_field, esc, page, table, url};
use crate::i18n::{t, Lang};
use crate::pages::{form_error, with_status};
use crate::AppState;
use app::accounts::{TOKEN_DAYS, TOKEN_MAX_DAYS};
use app::{ApiToken, NewToken};
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

type PageResult = Result<Response, PageError>;

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(users).post(users_create))
        .route("/users/token", post(users_token))
        .route("/users/{id}/active", post(user_active))
        .route("/users/{id}/password", post(user_password))
        .route("/users/{id}/facility", post(user_facility))
        .route("/account", get(account))
        .route("/account/password", post(account_password))
        .route("/account/tokens", post(account_token))
        .route("/tokens/{id}/revoke", post(page_revoke))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(api_tokens).post(api_create))
        .route("/tokens/{id}/revoke", post(api_revoke))
        .route("/users/{id}/facility", post(api_user_facility))
}

/// Words of these pages in the user's language (English, 中文).
fn tr(l: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match l {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

fn flash_ok(msg: &str) -> String {
    format!("<p class=\"flash\" role=\"status\">{msg}</p>")
}

// ---------------------------------------------------------------- tokens, drawn

fn token_rows(ctx: &Ctx, tokens: &[ApiToken], back: &str, owners: bool) -> String {
    let l = ctx.lang;
    let now = Utc::now();
    let mut s = String::from("<table class=\"tokens\"><thead><tr>");
    let mut heads = vec![tr(l, "Token", "令牌"), tr(l, "Name", "名称")];
    if owners {
        heads.push(tr(l, "Owner", "所有人"));
    }
    heads.extend([
        t(l, "role"),
        t(l, "scope"),
        tr(l, "Created", "创建"),
        tr(l, "Expires", "到期"),
        tr(l, "Last used", "最近使用"),
        tr(l, "State", "状态"),
        "",
    ]);
    if tokens.is_empty() {
        return format!("<p class=\"empty\">{}</p>", t(l, "none"));
    }
    for h in heads {
        let _ = write!(s, "<th>{h}</th>");
    }
    s.push_str("</tr></thead><tbody>");
    for tk in tokens {
        let state = tk.state(now);
        let _ = write!(
            s,
            "<tr data-token=\"{}\"><td><code>{}</code></td><td>{}</td>",
            esc(&tk.id),
            esc(&tk.id),
            esc(&tk.name)
        );
        if owners {
            let _ = write!(s, "<td>{}</td>", esc(&tk.owner));
        }
        let _ = write!(
            s,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"state {state}\">{}</td><td>",
            tk.role,
            esc(&tk.scope.to_string()),
            tk.created_at.format("%Y-%m-%d"),
            tk.expires_at.format("%Y-%m-%d"),
            tk.last_used_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
            match state {
                "live" => tr(l, "live", "有效"),
                "expired" => tr(l, "expired", "已过期"),
                _ => tr(l, "revoked", "已吊销"),
            },
        );
        if state == "live" {
            let _ = write!(
                s,
                "<form method=\"post\" action=\"/tokens/{}/revoke\" class=\"inline\">{}<input type=\"hidden\" name=\"back\" value=\"{back}\"><button type=\"submit\">{}</button></form>",
                url(&tk.id),
                csrf_field(ctx),
                tr(l, "Revoke", "吊销"),
            );
        }
        s.push_str("</td></tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// The form for a new token: roles no stronger than one's own, one's scope as
/// the default, 90 days unless asked.
fn token_form(ctx: &Ctx, action: &str) -> String {
    let l = ctx.lang;
    let opts: String = Role::ALL
        .iter()
        .filter(|r| r.within(ctx.user.role))
        .map(|r| format!("<option{}>{r}</option>", if *r == ctx.user.role { " selected" } else { "" }))
        .collect();
    format!(
        "<h2>{tk}</h2><form method=\"post\" action=\"{action}\" class=\"stack\" id=\"token-form\">{csrf}\
<label>{n}<input name=\"name\" required maxlength=\"64\" placeholder=\"his-county-hospital\"></label>\
<label>{r}<select name=\"role\">{opts}</select></label>\
<label>{s}<input name=\"scope\" value=\"{scope}\" placeholder=\"341122\"></label>\
<label>{d}<input name=\"days\" type=\"number\" min=\"1\" max=\"{TOKEN_MAX_DAYS}\" value=\"{TOKEN_DAYS}\" required></label>\
<p class=\"note\">{note}</p><button type=\"submit\">{tk}</button></form>",
        tk = t(l, "create_token"),
        csrf = csrf_field(ctx),
        n = t(l, "name"),
        r = t(l, "role"),
        s = t(l, "scope"),
        scope = esc(ctx.user.scope.prefix()),
        d = tr(l, "Lasts (days)", "有效期（天）"),
        note = tr(
            l,
            "A token acts for you with the role and region scope it carries, never more than yours.",
            "令牌以其自身的角色和管辖区域代表您操作，权限不超过您本人。"
        ),
    )
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    days: String,
}

/// A token form read: blank fields take the maker's role and scope, 90 days.
fn new_token(f: &TokenForm) -> Result<NewToken, WebError> {
    let role = match f.role.trim() {
        "" => None,
        r => Some(r.parse::<Role>().map_err(WebError::BadRequest)?),
    };
    let scope = match f.scope.trim() {
        "" => None,
        s => Some(Scope::parse(s).map_err(WebError::BadRequest)?),
    };
    let days = match f.days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            WebError::BadRequest(format!("a token lasts a whole number of days (1 to {TOKEN_MAX_DAYS}), not {d:?}"))
        })?),
    };
    Ok(NewToken { name: f.name.clone(), role, scope, days })
}

/// Makes a token from a signed-in session; the secret goes back once.
async fn make_token(state: &AppState, ctx: &Ctx, f: &TokenForm) -> Result<(ApiToken, String), WebError> {
    let t = new_token(f)?;
    let secret = auth::new_secret();
    let token = state.app.create_token(&ctx.user, t, &auth::secret_hash(&secret)).await?;
    Ok((token, secret))
}

fn new_token_flash(l: Lang, token: &ApiToken, secret: &str) -> String {
    flash_ok(&format!(
        "{} <code id=\"new-token\">{secret}</code> ({} {}, {} {})",
        t(l, "token_once"),
        tr(l, "token", "令牌"),
        esc(&token.id),
        tr(l, "expires", "到期"),
        token.expires_at.format("%Y-%m-%d"),
    ))
}

// ---------------------------------------------------------------- the users page

async fn users(State(state): State<AppState>, PageUser(ctx): PageUser) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    users_page(&state, &ctx, None, None).await
}

async fn users_page(state: &AppState, ctx: &Ctx, flash: Option<String>, error: Option<WebError>) -> PageResult {
    let l = ctx.lang;
    let mut b = error.as_ref().map(form_error).unwrap_or_default();
    b.push_str(&flash.unwrap_or_default());
    let users: Vec<app::User> = state
        .app
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.scope.inside(ctx.scope()) || u.id == ctx.user.id)
        .collect();
    let mut rows = vec![];
    for u in &users {
        let state_cell = if u.active {
            tr(l, "active", "启用").to_string()
        } else {
            format!("<strong class=\"inactive\">{}</strong>", tr(l, "turned off", "已停用"))
        };
        let mut actions = String::new();
        if u.id != ctx.user.id {
            let (to, label) =
                if u.active { ("false", tr(l, "Turn off", "停用")) } else { ("true", tr(l, "Turn on", "启用")) };
            let _ = write!(
                actions,
                "<form method=\"post\" action=\"/users/{id}/active\" class=\"inline\">{csrf}<input type=\"hidden\" name=\"active\" value=\"{to}\"><button type=\"submit\">{label}</button></form>\
<form method=\"post\" action=\"/users/{id}/password\" class=\"inline\">{csrf}<input name=\"password\" type=\"password\" minlength=\"10\" required autocomplete=\"new-password\" placeholder=\"{np}\"><button type=\"submit\">{reset}</button></form>",
                id = u.id,
                csrf = csrf_field(ctx),
                np = tr(l, "new password", "新密码"),
                reset = tr(l, "Reset password", "重置密码"),
            );
        }
        if u.role == Role::Clerk {
            let _ = write!(
                actions,
                "<form method=\"post\" action=\"/users/{id}/facility\" class=\"inline\">{csrf}<input name=\"facility_id\" value=\"{f}\" maxlength=\"64\" placeholder=\"{ph}\"><button type=\"submit\">{set}</button></form>",
                id = u.id,
                csrf = csrf_field(ctx),
                f = esc(u.scope.facility().unwrap_or_default()),
                ph = tr(l, "facility ID (blank: any)", "机构编码（空：不限）"),
                set = tr(l, "Set facility", "设置机构"),
            );
        }
        let facility = u.scope.facility().map(esc).unwrap_or_default();
        rows.push(vec![esc(&u.username), u.role.to_string(), esc(&u.scope.to_string()), facility, state_cell, actions]);
    }
    b.push_str(&table(l, &["username", "role", "scope", "user_facility", "state", "action"], &rows));
    let _ = write!(
        b,
        "<h2>{cu}</h2><form method=\"post\" action=\"/users\" class=\"stack\" id=\"user-form\">{csrf}<label>{u}<input name=\"username\" required maxlength=\"64\"></label>\
<label>{p}<input name=\"password\" type=\"password\" required minlength=\"10\" autocomplete=\"new-password\"></label><label>{r}<select name=\"role\">{opts}</select></label>\
<label>{s}<input name=\"scope\" placeholder=\"341122\"></label><label>{fa}<input name=\"facility_id\" maxlength=\"64\" placeholder=\"H341122001\"></label>\
<p class=\"note\">{rules} {fnote}</p><button type=\"submit\">{cu}</button></form>",
        cu = t(l, "create_user"),
        csrf = csrf_field(ctx),
        u = t(l, "username"),
        p = t(l, "password"),
        r = t(l, "role"),
        s = t(l, "scope"),
        opts = Role::ALL.iter().map(|r| format!("<option>{r}</option>")).collect::<String>(),
        rules = password_rules(l),
        fa = t(l, "user_facility"),
        fnote = tr(
            l,
            "A clerk bound to a facility (and every token of theirs) settles, admits, takes payments, voids and prints slips for that facility only.",
            "绑定机构的结算员（及其全部令牌）只能为该机构结算、登记入院、收款、作废和打印结算单。"
        ),
    );
    let tokens = state.app.tokens_for(&ctx.user).await?;
    let _ = write!(b, "<h2>{}</h2>", tr(l, "API tokens", "API 令牌"));
    b.push_str(&token_rows(ctx, &tokens, "/users", true));
    b.push_str(&token_form(ctx, "/users/token"));
    Ok(with_status(page(ctx, t(l, "users"), &b), error.as_ref()))
}

fn password_rules(l: Lang) -> &'static str {
    tr(
        l,
        "A password has at least 10 characters, is not one of the most common passwords and is not the user name.",
        "密码至少 10 个字符，不能是常见密码，也不能与用户名相同。",
    )
}

#[derive(Deserialize)]
struct UserForm {
    username: String,
    password: String,
    role: String,
    #[serde(default)]
    scope: String,
    /// A clerk's facility; blank: none.
    #[serde(default)]
    facility_id: String,
}

async fn users_create(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    form: Result<Form<UserForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    let made = async {
        let Form(f) = form?;
        let role: Role = f.role.parse().map_err(WebError::BadRequest)?;
        let scope = Scope::parse(&f.scope).map_err(WebError::BadRequest)?;
        // An administrator cannot hand out more than they hold.
        if !scope.inside(ctx.scope()) {
            return Err(WebError::Forbidden(format!("the scope {scope} lies outside your own scope {}", ctx.scope())));
        }
        let scope = scope.with_facility(Some(f.facility_id.clone()));
        let u = auth::create_user(&state, &f.username, &f.password, role, scope).await?;
        let facility = u.scope.facility().map(|f| format!(", facility {f}")).unwrap_or_default();
        let detail = format!("{} {}{facility}", u.role, u.scope);
        audit(&state, &ctx.user.username, "create_user", &u.username, &detail).await?;
        Ok(u)
    }
    .await;
    match made {
        Ok(u) => users_page(&state, &ctx, Some(flash_ok(&format!("{} ✓", esc(&u.username)))), None).await,
        Err(e) => users_page(&state, &ctx, None, Some(e)).await,
    }
}

async fn users_token(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    let made = match form {
        Ok(Form(f)) => make_token(&state, &ctx, &f).await,
        Err(e) => Err(e.into()),
    };
    match made {
        Ok((tk, secret)) => users_page(&state, &ctx, Some(new_token_flash(ctx.lang, &tk, &secret)), None).await,
        Err(e) => users_page(&state, &ctx, None, Some(e)).await,
    }
}

fn user_id(id: &str) -> Result<i64, WebError> {
    id.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| WebError::not_found("user"))
}

#[derive(Deserialize)]
struct ActiveForm {
    active: String,
}

async fn user_active(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    form: Result<Form<ActiveForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    let done = async {
        let id = user_id(&id)?;
        let Form(f) = form?;
        let active = domain::parse_bool(&f.active)
            .map_err(|e| WebError::BadRequest(format!("active: {e} (true to turn the account on, false off)")))?;
        Ok::<_, WebError>(state.app.set_user_active(&ctx.user, id, active).await?)
    }
    .await;
    match done {
        Ok(u) => {
            let l = ctx.lang;
            let what = if u.active {
                tr(l, "may log in again", "已恢复登录")
            } else {
                tr(l, "is turned off; their sessions ended", "已停用，其会话已结束")
            };
            users_page(&state, &ctx, Some(flash_ok(&format!("{} {what}", esc(&u.username)))), None).await
        }
        Err(e) => users_page(&state, &ctx, None, Some(e)).await,
    }
}

#[derive(Deserialize)]
struct FacilityForm {
    #[serde(default)]
    facility_id: String,
}

/// `POST /users/{id}/facility`: binds a clerk to a facility, or frees them
/// (blank).
async fn user_facility(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    form: Result<Form<FacilityForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    let done = async {
        let id = user_id(&id)?;
        let Form(f) = form?;
        Ok::<_, WebError>(state.app.set_user_facility(&ctx.user, id, Some(&f.facility_id)).await?)
    }
    .await;
    match done {
        Ok(u) => {
            let l = ctx.lang;
            let msg = match u.scope.facility() {
                Some(f) => format!("{} {} {}", esc(&u.username), tr(l, "is bound to facility", "已绑定机构"), esc(f)),
                None => format!("{} {}", esc(&u.username), tr(l, "is bound to no facility", "未绑定机构")),
            };
            users_page(&state, &ctx, Some(flash_ok(&msg)), None).await
        }
        Err(e) => users_page(&state, &ctx, None, Some(e)).await,
    }
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
}

async fn user_password(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    form: Result<Form<ResetForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    ctx.require(Permission::ManageUsers)?;
    let done = async {
        let id = user_id(&id)?;
        let Form(f) = form?;
        let target = state.app.user_by_id(id).await?.ok_or_else(|| WebError::not_found("user"))?;
        auth::check_password_rules(&target.username, &f.password)?;
        let hash = auth::hash_off_thread(&state, &f.password).await?;
        Ok::<_, WebError>(state.app.reset_password(&ctx.user, id, &hash).await?)
    }
    .await;
    match done {
        Ok(u) => {
            let msg = tr(ctx.lang, "has a new password; their sessions ended", "密码已重置，其会话已结束");
            users_page(&state, &ctx, Some(flash_ok(&format!("{} {msg}", esc(&u.username)))), None).await
        }
        Err(e) => users_page(&state, &ctx, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------- one's own account

async fn account(State(state): State<AppState>, PageUser(ctx): PageUser) -> PageResult {
    account_page(&state, &ctx, None, None).await
}

async fn account_page(state: &AppState, ctx: &Ctx, flash: Option<String>, error: Option<WebError>) -> PageResult {
    let l = ctx.lang;
    let mut b = error.as_ref().map(form_error).unwrap_or_default();
    b.push_str(&flash.unwrap_or_default());
    let u = &ctx.user;
    let _ = write!(
        b,
        "<dl class=\"facts\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
        t(l, "username"),
        esc(&u.username),
        t(l, "role"),
        u.role,
        t(l, "scope"),
        esc(&u.scope.to_string()),
    );
    let _ = write!(
        b,
        "<h2>{cp}</h2><form method=\"post\" action=\"/account/password\" class=\"stack\" id=\"password-form\">{csrf}\
<label>{cur}<input name=\"current\" type=\"password\" required autocomplete=\"current-password\"></label>\
<label>{new}<input name=\"new\" type=\"password\" required minlength=\"10\" autocomplete=\"new-password\"></label>\
<label>{again}<input name=\"confirm\" type=\"password\" required minlength=\"10\" autocomplete=\"new-password\"></label>\
<p class=\"note\">{rules} {others}</p><button type=\"submit\">{cp}</button></form>",
        cp = tr(l, "Change password", "修改密码"),
        csrf = csrf_field(ctx),
        cur = tr(l, "Current password", "当前密码"),
        new = tr(l, "New password", "新密码"),
        again = tr(l, "New password again", "再次输入新密码"),
        rules = password_rules(l),
        others = tr(l, "Your other sessions end.", "您的其他会话将结束。"),
    );
    let mine: Vec<ApiToken> =
        state.app.tokens_for(&ctx.user).await?.into_iter().filter(|t| t.owner_id == ctx.user.id).collect();
    let _ = write!(b, "<h2>{}</h2>", tr(l, "My API tokens", "我的 API 令牌"));
    b.push_str(&token_rows(ctx, &mine, "/account", false));
    b.push_str(&token_form(ctx, "/account/tokens"));
    Ok(with_status(page(ctx, tr(l, "My account", "我的账户"), &b), error.as_ref()))
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn account_password(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    parts: Parts,
    form: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    let done = async {
        let Form(f) = form?;
        if f.new != f.confirm {
            return Err(WebError::BadRequest("the new password and its repetition differ".into()));
        }
        auth::check_password_rules(&ctx.user.username, &f.new)?;
        if f.new == f.current {
            return Err(WebError::BadRequest("the new password is the current one".into()));
        }
        let addr = auth::client_addr(&state, &parts);
        match auth::check_own_password(&state, addr, &ctx.user, &f.current).await? {
            LoginOutcome::Ok { .. } => {}
            LoginOutcome::Refused => return Err(WebError::Forbidden("the current password is wrong".into())),
            other => return Err(WebError::TooManyRequests(other.message())),
        }
        let hash = auth::hash_off_thread(&state, &f.new).await?;
        let keep = ctx.session.as_ref().map(|s| s.token_hash.as_str());
        state.app.change_own_password(&ctx.user, &hash, keep).await?;
        Ok(())
    }
    .await;
    match done {
        Ok(()) => {
            let msg =
                tr(ctx.lang, "Your password is changed; your other sessions ended.", "密码已修改，其他会话已结束。");
            account_page(&state, &ctx, Some(flash_ok(msg)), None).await
        }
        Err(e) => account_page(&state, &ctx, None, Some(e)).await,
    }
}

async fn account_token(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    let made = match form {
        Ok(Form(f)) => make_token(&state, &ctx, &f).await,
        Err(e) => Err(e.into()),
    };
    match made {
        Ok((tk, secret)) => account_page(&state, &ctx, Some(new_token_flash(ctx.lang, &tk, &secret)), None).await,
        Err(e) => account_page(&state, &ctx, None, Some(e)).await,
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    back: String,
}

async fn page_revoke(
    State(state): State<AppState>,
    PageUser(ctx): PageUser,
    Path(id): Path<String>,
    form: Result<Form<RevokeForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    let back = match form.as_ref().map(|f| f.back.as_str()) {
        Ok("/users") if ctx.may(Permission::ManageUsers) => "/users",
        _ => "/account",
    };
    match state.app.revoke_token(&ctx.user, &id).await {
        Ok(_) => Ok(Redirect::to(back).into_response()),
        Err(e) if back == "/users" => users_page(&state, &ctx, None, Some(e.into())).await,
        Err(e) => account_page(&state, &ctx, None, Some(e.into())).await,
    }
}

// ---------------------------------------------------------------- the API

/// A token as the API shows it (never its secret).
#[derive(Serialize)]
pub struct TokenOut {
    id: String,
    owner: String,
    name: String,
    role: String,
    scope: String,
    created_at: String,
    expires_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    /// `live`, `expired` or `revoked`.
    state: String,
}

fn token_out(t: &ApiToken) -> TokenOut {
    TokenOut {
        id: t.id.clone(),
        owner: t.owner.clone(),
        name: t.name.clone(),
        role: t.role.to_string(),
        scope: t.scope.prefix().to_string(),
        created_at: t.created_at.to_rfc3339(),
        expires_at: t.expires_at.to_rfc3339(),
        last_used_at: t.last_used_at.map(|t| t.to_rfc3339()),
        revoked_at: t.revoked_at.map(|t| t.to_rfc3339()),
        state: t.state(Utc::now()).to_string(),
    }
}

/// `GET /tokens`: one's own tokens; an administrator's, every token of their scope.
async fn api_tokens(State(st): State<AppState>, ApiUser(ctx): ApiUser) -> Result<Json<List<TokenOut>>, WebError> {
    let tokens = st.app.tokens_for(&ctx.user).await?;
    Ok(Json(List { items: tokens.iter().map(token_out).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenIn {
    name: String,
    /// Default: the maker's role.
    role: Option<String>,
    /// Default: the maker's scope.
    scope: Option<String>,
    /// Default 90, at most 365.
    expires_in_days: Option<i64>,
}

#[derive(Serialize)]
struct NewTokenOut {
    token: TokenOut,
    /// The secret for `Authorization: Bearer`, shown this once.
    secret: String,
}

/// `POST /tokens`: from a signed-in session only (a token does not make
/// tokens, so a leaked one cannot outlive its expiry).
async fn api_create(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    ApiJson(b): ApiJson<TokenIn>,
) -> Result<Response, WebError> {
    if ctx.token.is_some() {
        return Err(WebError::Forbidden(
            "API tokens are made from a signed-in session (the account page), not with another token".into(),
        ));
    }
    let f = TokenForm {
        name: b.name,
        role: b.role.unwrap_or_default(),
        scope: b.scope.unwrap_or_default(),
        days: b.expires_in_days.map(|d| d.to_string()).unwrap_or_default(),
    };
    let (token, secret) = make_token(&st, &ctx, &f).await?;
    Ok((axum::http::StatusCode::CREATED, Json(NewTokenOut { token: token_out(&token), secret })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFacilityIn {
    /// The facility; null or blank: none.
    facility_id: Option<String>,
}

/// An account's binding as the API shows it.
#[derive(Serialize)]
struct UserFacilityOut {
    id: i64,
    username: String,
    role: String,
    scope: String,
    facility_id: Option<String>,
}

/// `POST /users/{id}/facility`: an administrator binds a clerk's account (and
/// so its tokens) to a facility of its scope, or frees it. Audited.
async fn api_user_facility(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<UserFacilityIn>,
) -> Result<Json<UserFacilityOut>, WebError> {
    ctx.require(Permission::ManageUsers)?;
    let id = user_id(&id)?;
    let u = st.app.set_user_facility(&ctx.user, id, b.facility_id.as_deref()).await?;
    Ok(Json(UserFacilityOut {
        id: u.id,
        username: u.username.clone(),
        role: u.role.to_string(),
        scope: u.scope.prefix().to_string(),
        facility_id: u.scope.facility().map(str::to_string),
    }))
}

/// `POST /tokens/{id}/revoke`: one's own, or an administrator's of their scope.
async fn api_revoke(
    State(st): State<AppState>,
    ApiUser(ctx): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<TokenOut>, WebError> {
    let t = st.app.revoke_token(&ctx.user, &id).await?;
    Ok(Json(token_out(&t)))
}
