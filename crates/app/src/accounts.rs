//! Accounts managed: users turned off and on again, passwords changed by their
//! owner and reset by an administrator (both end sessions), and API tokens that
//! carry a role and a region scope of their own, expire, can be listed and
//! revoked.
//!
//! A token acts for the user who made it, with a role no stronger than theirs
//! ([`Role::within`]) in a scope inside theirs ([`Scope::inside`]): a county
//! hospital's system gets a clerk's token for its county, made by whoever
//! manages the county, and settles that county's claims only. The checks hold
//! at every use, against the owner as they are then: a token of an owner who
//! was turned off, or whose role or scope shrank below the token's, acts no
//! more.
//!
//! A clerk's account may be bound to one facility ([`App::set_user_facility`]);
//! its tokens act for that facility only, whatever their scope.
//!
//! Passwords are hashed and checked by the adapter (the web crate holds the
//! hasher); this layer receives hashes, and the password policy
//! ([`crate::access::check_new_password`]) that the adapter applies first.
//! Every change is audited here, after its write, with who did it to whom.

use crate::access::{Permission, Role, Scope};
use crate::model::{AppError, AppResult, User};
use crate::App;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How long a token lasts unless asked otherwise, in days.
pub const TOKEN_DAYS: i64 = 90;
/// The longest a token may last, in days.
pub const TOKEN_MAX_DAYS: i64 = 365;

/// An API token as its owner and the administrators see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// The public name of the token, for listing and revocation.
    pub id: String,
    pub owner_id: i64,
    pub owner: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// `live`, `expired` or `revoked`.
    pub fn state(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "live"
        }
    }
}

/// A token to make. What is left out is the maker's: their role, their scope;
/// it lasts [`TOKEN_DAYS`] unless `days` says otherwise.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub name: String,
    pub role: Option<Role>,
    pub scope: Option<Scope>,
    pub days: Option<i64>,
}

/// The public ID of a token: the first 16 digits of its hash (the migration
/// named the tokens made before it so).
fn token_id(token_hash: &str) -> AppResult<String> {
    if token_hash.len() < 32 || !token_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::Invalid("an API token's hash must be hexadecimal digits".into()));
    }
    Ok(token_hash[..16].to_string())
}

/// A stored token as the application sees it, with the owner's role and scope
/// for a token made before tokens had their own, and 90 days from its making
/// for one made before tokens expired.
fn api_token(t: store::ApiTokenRow, owner: Option<&User>) -> AppResult<ApiToken> {
    let bad = |what: &str, v: &str| AppError::Store(format!("API token {}: stored {what} {v:?} is invalid", t.id));
    let role = match (&t.role, owner) {
        (Some(r), _) => r.parse::<Role>().map_err(|_| bad("role", r))?,
        (None, Some(o)) => o.role,
        (None, None) => return Err(bad("role", "")),
    };
    let scope = match (&t.region_scope, owner) {
        (Some(s), _) => Scope::parse(s).map_err(|_| bad("scope", s))?,
        (None, Some(o)) => o.scope.clone(),
        (None, None) => return Err(bad("scope", "")),
    };
    Ok(ApiToken {
        expires_at: t.expires_at.unwrap_or(t.created_at + Duration::days(TOKEN_DAYS)),
        id: t.id,
        owner_id: t.user_id,
        owner: t.owner,
        name: t.name,
        role,
        scope,
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        revoked_at: t.revoked_at,
    })
}

/// Refuses a user who may not manage users.
fn manager(by: &User) -> AppResult<()> {
    if by.role.may(Permission::ManageUsers) {
        Ok(())
    } else {
        Err(AppError::Invalid(format!("your role may not {}", Permission::ManageUsers.as_str())))
    }
}

impl App {
    /// The account `by` manages: one whose scope lies inside theirs; any other
    /// is not found, like a record outside a scope.
    async fn managed_user(&self, by: &User, user_id: i64) -> AppResult<User> {
        manager(by)?;
        self.user_by_id(user_id)
            .await?
            .filter(|u| u.scope.inside(&by.scope))
            .ok_or_else(|| AppError::NotFound(format!("user {user_id} not found")))
    }

    /// The managed account of a name (without regard to case).
    pub async fn managed_user_by_name(&self, by: &User, username: &str) -> AppResult<User> {
        manager(by)?;
        self.user_by_name(username)
            .await?
            .filter(|u| u.scope.inside(&by.scope))
            .ok_or_else(|| AppError::NotFound(format!("user {username:?} not found")))
    }

    /// Turns an account off (it cannot log in, its sessions end, its tokens act
    /// no more) or on again. Administrators only, inside their scope, never
    /// their own account.
    pub async fn set_user_active(&self, by: &User, user_id: i64, active: bool) -> AppResult<User> {
        let u = self.managed_user(by, user_id).await?;
        if u.id == by.id {
            return Err(AppError::Invalid("you cannot turn off or on your own account".into()));
        }
        {
            let _turn = self.writing().await;
            self.store().set_user_active(u.id, active).await?;
        }
        let (action, detail) = if active {
            ("reactivate_user", "the account may log in again".to_string())
        } else {
            ("deactivate_user", "the account may not log in; its sessions ended, its tokens act no more".to_string())
        };
        self.audit_event(&by.username, action, u.username.clone(), detail, None).await?;
        self.user_by_id(u.id).await?.ok_or_else(|| AppError::NotFound(format!("user {user_id} not found")))
    }

    /// Checks that an account of `role` in `scope` may be bound to `facility_id`:
    /// a clerk's only, and the facility stored inside the scope's region.
    pub(crate) async fn check_clerk_facility(&self, role: Role, scope: &Scope, facility_id: &str) -> AppResult<()> {
        if role != Role::Clerk {
            return Err(AppError::Invalid(format!(
                "facility: only a clerk's account is bound to a facility, not a {role}'s"
            )));
        }
        let region = crate::service::scope(scope)?;
        match self.store().get::<domain::Facility>(facility_id).await? {
            Some(f) if region.contains(f.region_code) => Ok(()),
            Some(_) => Err(AppError::Invalid(format!(
                "facility: {facility_id} lies outside the account's region scope {scope}"
            ))),
            None => Err(AppError::Invalid(format!("facility: {facility_id:?} is not in the store"))),
        }
    }

    /// Binds a clerk's account to one facility, or frees it (`None`): a bound
    /// clerk, and every token of theirs, settles, admits, takes payments,
    /// voids and prints slips for that facility only (docs/desk.md). Inside the
    /// administrator's scope; audited.
    pub async fn set_user_facility(&self, by: &User, user_id: i64, facility_id: Option<&str>) -> AppResult<User> {
        let u = self.managed_user(by, user_id).await?;
        let facility_id = facility_id.map(str::trim).filter(|f| !f.is_empty());
        if let Some(f) = facility_id {
            self.check_clerk_facility(u.role, &u.scope, f).await?;
        }
        {
            let _turn = self.writing().await;
            self.store().set_user_facility(u.id, facility_id).await?;
        }
        let detail = match (u.scope.facility(), facility_id) {
            (before, Some(f)) => format!("bound to facility {f} (was {})", before.unwrap_or("none")),
            (before, None) => format!("bound to no facility (was {})", before.unwrap_or("none")),
        };
        self.audit_event(&by.username, "set_user_facility", u.username.clone(), detail, None).await?;
        self.user_by_id(u.id).await?.ok_or_else(|| AppError::NotFound(format!("user {user_id} not found")))
    }

    /// Sets a new password for another user (who forgot theirs) and ends their
    /// sessions. Administrators only, inside their scope; one's own password is
    /// changed with [`App::change_own_password`]. The hash is of a password the
    /// caller checked against the policy.
    pub async fn reset_password(&self, by: &User, user_id: i64, password_hash: &str) -> AppResult<User> {
        let u = self.managed_user(by, user_id).await?;
        if u.id == by.id {
            return Err(AppError::Invalid(
                "change your own password on your account page, with your current password".into(),
            ));
        }
        let ended = {
            let _turn = self.writing().await;
            self.store().replace_password(u.id, password_hash, None).await?
        };
        let detail = format!("password reset by an administrator; {ended} session(s) ended");
        self.audit_event(&by.username, "reset_password", u.username.clone(), detail, None).await?;
        Ok(u)
    }

    /// Changes a user's own password; their other sessions end (`keep` is the
    /// session they changed it in). The caller has checked the current password
    /// and the new one against the policy.
    pub async fn change_own_password(&self, user: &User, password_hash: &str, keep: Option<&str>) -> AppResult<()> {
        let ended = {
            let _turn = self.writing().await;
            self.store().replace_password(user.id, password_hash, keep).await?
        };
        let detail = format!("password changed by its owner; {ended} other session(s) ended");
        self.audit_event(&user.username, "change_password", user.username.clone(), detail, None).await
    }

    /// Makes an API token for `by`, stored under `token_hash` (the caller
    /// made the secret and hands it to the client once). Its role may be no
    /// stronger than `by`'s, its scope must lie inside theirs, and it lasts 1
    /// to [`TOKEN_MAX_DAYS`] days.
    pub async fn create_token(&self, by: &User, t: NewToken, token_hash: &str) -> AppResult<ApiToken> {
        let name = t.name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(AppError::Invalid("a token's name is 1 to 64 characters (say which system uses it)".into()));
        }
        let role = t.role.unwrap_or(by.role);
        if let Some(p) = role.beyond(by.role) {
            return Err(AppError::Invalid(format!(
                "a token's role may be no stronger than your own ({}): a {role} may {}, which a {} may not",
                by.role,
                p.as_str(),
                by.role
            )));
        }
        let scope = t.scope.unwrap_or_else(|| by.scope.clone());
        if !scope.inside(&by.scope) {
            return Err(AppError::Invalid(format!(
                "a token's region scope must lie inside your own ({}); {scope} does not",
                by.scope
            )));
        }
        let days = t.days.unwrap_or(TOKEN_DAYS);
        if !(1..=TOKEN_MAX_DAYS).contains(&days) {
            return Err(AppError::Invalid(format!("a token lasts 1 to {TOKEN_MAX_DAYS} days, not {days}")));
        }
        let id = token_id(token_hash)?;
        let expires_at = Utc::now() + Duration::days(days);
        {
            let _turn = self.writing().await;
            self.store()
                .create_api_token(&store::NewApiToken {
                    token_hash: token_hash.into(),
                    id: id.clone(),
                    user_id: by.id,
                    name: name.into(),
                    role: role.as_str().into(),
                    region_scope: scope.prefix().into(),
                    expires_at,
                })
                .await?;
        }
        let detail = format!("token {id}: role {role}, scope {scope}, expires {}", expires_at.format("%Y-%m-%d"));
        self.audit_event(&by.username, "create_api_token", name.to_string(), detail, None).await?;
        let row = self.store().api_token_by_id(&id).await?;
        let row = row.ok_or_else(|| AppError::Store(format!("the API token {id} was not stored")))?;
        api_token(row, Some(by))
    }

    /// The tokens `by` may see: an administrator those of their scope and their
    /// own, anyone else their own. Newest first.
    pub async fn tokens_for(&self, by: &User) -> AppResult<Vec<ApiToken>> {
        let admin = by.role.may(Permission::ManageUsers);
        let rows = self.store().list_api_tokens(if admin { None } else { Some(by.id) }).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let legacy = r.role.is_none() || r.region_scope.is_none();
            let owner = if r.user_id == by.id {
                Some(by.clone())
            } else if legacy {
                self.user_by_id(r.user_id).await?
            } else {
                None
            };
            let t = api_token(r, owner.as_ref())?;
            if t.owner_id == by.id || (admin && t.scope.inside(&by.scope)) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Revokes a token: one's own, or as an administrator one of their scope.
    /// Any other is not found. Revoking a revoked token changes nothing.
    pub async fn revoke_token(&self, by: &User, id: &str) -> AppResult<ApiToken> {
        let not_found = || AppError::NotFound(format!("API token {id:?} not found"));
        let row = self.store().api_token_by_id(id.trim()).await?.ok_or_else(not_found)?;
        let owner = self.user_by_id(row.user_id).await?;
        let t = api_token(row, owner.as_ref())?;
        let admin = by.role.may(Permission::ManageUsers) && t.scope.inside(&by.scope);
        if t.owner_id != by.id && !admin {
            return Err(not_found());
        }
        if t.revoked_at.is_some() {
            return Ok(t);
        }
        let revoked = {
            let _turn = self.writing().await;
            self.store().revoke_api_token(&t.id).await?
        };
        if revoked {
            let detail = format!("token {} of {}", t.id, t.owner);
            self.audit_event(&by.username, "revoke_api_token", t.name.clone(), detail, None).await?;
        }
        let row = self.store().api_token_by_id(&t.id).await?.ok_or_else(not_found)?;
        api_token(row, owner.as_ref())
    }

    /// Who a request carrying the token of this hash acts as: the token's owner
    /// with the token's role and scope. `None` when there is no such token, or
    /// it was revoked, or it has expired, or its owner was turned off, or the
    /// owner's role or scope no longer covers the token's.
    pub async fn token_identity(&self, token_hash: &str) -> AppResult<Option<(User, ApiToken)>> {
        let Some(row) = self.store().api_token(token_hash).await? else { return Ok(None) };
        let Some(owner) = self.user_by_id(row.user_id).await? else { return Ok(None) };
        let t = api_token(row, Some(&owner))?;
        if t.state(Utc::now()) != "live" || !owner.active || !t.role.within(owner.role) || !t.scope.inside(&owner.scope)
        {
            return Ok(None);
        }
        // The facility is the owner's as they are now: a token never escapes it.
        let facility = owner.scope.facility().map(str::to_string);
        let user = User { role: t.role, scope: t.scope.clone().with_facility(facility), ..owner };
        Ok(Some((user, t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_made_before_migration_9_act_as_their_owner_for_90_days() {
        let made = Utc::now() - Duration::days(10);
        let row = store::ApiTokenRow {
            id: "abababababababab".into(),
            user_id: 1,
            owner: "wang".into(),
            name: "old script".into(),
            role: None,
            region_scope: None,
            created_at: made,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        };
        let owner = User {
            id: 1,
            username: "wang".into(),
            password_hash: String::new(),
            role: Role::Officer,
            scope: Scope::parse("341122").unwrap(),
            failed_logins: 0,
            locked_until: None,
            active: true,
        };
        let t = api_token(row.clone(), Some(&owner)).unwrap();
        assert_eq!((t.role, t.scope.prefix()), (Role::Officer, "341122"));
        assert_eq!(t.expires_at, made + Duration::days(TOKEN_DAYS));
        assert_eq!(t.state(Utc::now()), "live");
        assert_eq!(t.state(made + Duration::days(TOKEN_DAYS)), "expired");
        assert!(api_token(row, None).is_err(), "a legacy token needs its owner");
    }

    #[test]
    fn token_ids_are_the_head_of_the_hash() {
        assert_eq!(token_id(&"ab".repeat(32)).unwrap(), "abababababababab");
        assert!(token_id("abc").is_err());
        assert!(token_id(&"zz".repeat(32)).is_err());
    }
}
