//! Who may do what, and where: roles with their permission table, the region scope
//! every query is filtered by, and the masking of personal data.
//!
//! The scope is enforced in one place: every repository call that reads registry
//! data takes a [`Scope`], and a single record outside it is reported as not found
//! ([`Scope::admits`]) so that a county officer cannot even learn that a person of
//! another county exists.

use domain::{RegionCode, ResidentId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role. The permission table is [`Role::may`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users and sees everything in scope.
    Administrator,
    /// A county or township officer who follows alerts and settles claims.
    Officer,
    /// A clerk at a settlement window or in an office: settles, imports.
    Clerk,
    /// Reads figures and exports masked data.
    Analyst,
    /// Reads pages, masked.
    Viewer,
    /// A village doctor (乡村医生) or village cadre: records visits to households,
    /// chronic patients' follow-ups and family-doctor contracts in their village;
    /// sees their patients in clear; opens and moves no case.
    VillageDoctor,
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See resident IDs and names in clear.
    ViewUnmasked,
    /// Move alerts through their states and record assistance.
    MoveAlerts,
    /// Settle claims and void them.
    Settle,
    /// Import files.
    Import,
    /// Create users and change roles.
    ManageUsers,
    /// Download data.
    Export,
    /// Read the audit log.
    ViewAudit,
    /// Run analyses over the scope's data: the policy what-if.
    Analyse,
    /// Do the casework: open, assign, verify, assist and close cases; change the
    /// registry by hand; and all of [`Permission::Visit`].
    Work,
    /// Record visits to households, chronic patients' follow-ups and
    /// family-doctor contracts.
    Visit,
    /// Change the plausibility limits on amounts (`domain::limits`).
    SetLimits,
    /// Add, change and remove the targets of the programme indicators.
    SetTargets,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Administrator, Role::Officer, Role::Clerk, Role::Analyst, Role::Viewer, Role::VillageDoctor];

    /// Whether this role may do nothing that `other` may not: the role a token
    /// of a user with `other` may carry.
    pub fn within(self, other: Role) -> bool {
        Permission::ALL.iter().all(|&p| !self.may(p) || other.may(p))
    }

    /// The first permission this role holds and `other` does not.
    pub fn beyond(self, other: Role) -> Option<Permission> {
        Permission::ALL.into_iter().find(|&p| self.may(p) && !other.may(p))
    }

    /// The permission table.
    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Administrator => true,
            Role::Officer => matches!(p, ViewUnmasked | MoveAlerts | Settle | Export | ViewAudit | Work | Visit),
            Role::Clerk => matches!(p, ViewUnmasked | Settle | Import),
            Role::Analyst => matches!(p, Export | Analyse),
            Role::Viewer => false,
            Role::VillageDoctor => matches!(p, ViewUnmasked | Visit),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Officer => "officer",
            Role::Clerk => "clerk",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::VillageDoctor => "village_doctor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| {
            format!(
                "unknown role {s:?}; expected one of administrator, officer, clerk, analyst, viewer, village_doctor"
            )
        })
    }
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::ViewUnmasked,
        Permission::MoveAlerts,
        Permission::Settle,
        Permission::Import,
        Permission::ManageUsers,
        Permission::Export,
        Permission::ViewAudit,
        Permission::Analyse,
        Permission::Work,
        Permission::Visit,
        Permission::SetLimits,
        Permission::SetTargets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewUnmasked => "view persons unmasked",
            Permission::MoveAlerts => "move alerts",
            Permission::Settle => "settle claims",
            Permission::Import => "import files",
            Permission::ManageUsers => "manage users",
            Permission::Export => "export data",
            Permission::ViewAudit => "view the audit log",
            Permission::Analyse => "run policy analyses",
            Permission::Work => "do the casework (cases, the registry by hand)",
            Permission::Visit => "record visits, follow-ups and family-doctor contracts",
            Permission::SetLimits => "change the plausibility limits on amounts",
            Permission::SetTargets => "change the targets of the indicators",
        }
    }
}

/// A region scope: the digits every region code the user may see starts with
/// (`""` for the whole country, `34` a province, `341122` a county), and, for a
/// clerk bound to one facility (docs/desk.md, "A clerk's facility"), that
/// facility: the claims, admissions, payments, voids and slips of any other
/// facility are refused to them ([`Scope::allows_facility`]), though they see the
/// registry of the whole region (to find a patient).
///
/// Serialised as the region digits alone; the facility is the account's
/// (`users.facility_id`), never a token's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    region: String,
    facility: Option<String>,
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.region)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Scope {
    pub fn all() -> Scope {
        Scope { region: String::new(), facility: None }
    }

    /// Parses a scope: empty, or the significant digits of a region code (2, 4, 6,
    /// 9 or 12 digits). It is bound to no facility.
    pub fn parse(s: &str) -> Result<Scope, String> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(Scope::all());
        }
        let code = RegionCode::parse(t).map_err(|e| format!("scope: {e}"))?;
        let short = code.short();
        if short != t {
            return Err(format!("scope {t:?} must be the significant digits of a region code, like {short}"));
        }
        Ok(Scope { region: short, facility: None })
    }

    /// The same region, bound to a facility (or to none).
    pub fn with_facility(self, facility: Option<String>) -> Scope {
        Scope { facility: facility.map(|f| f.trim().to_string()).filter(|f| !f.is_empty()), ..self }
    }

    /// The facility the scope is bound to, if any.
    pub fn facility(&self) -> Option<&str> {
        self.facility.as_deref()
    }

    /// Whether the claims and admissions of this facility are the user's to
    /// handle: every facility when the scope is bound to none, else that one
    /// only. (The region is checked apart, by the store.)
    pub fn allows_facility(&self, facility_id: &str) -> bool {
        self.facility.as_deref().is_none_or(|f| f == facility_id.trim())
    }

    /// The code prefix, `""` for everything.
    pub fn prefix(&self) -> &str {
        &self.region
    }

    /// Whether every region of this scope lies in `outer` (a token's scope in
    /// its owner's, a new user's in the administrator's).
    pub fn inside(&self, outer: &Scope) -> bool {
        self.region.starts_with(&outer.region)
    }

    /// Whether a region code lies in the scope.
    pub fn admits(&self, code: RegionCode) -> bool {
        code.starts_with(&self.region)
    }

    /// Whether a code prefix (a region filter asked by a user) lies inside the scope,
    /// or contains it (then the scope is what is shown).
    pub fn narrow(&self, asked: &str) -> Option<String> {
        if asked.starts_with(&self.region) {
            Some(asked.to_string())
        } else if self.region.starts_with(asked) {
            Some(self.region.clone())
        } else {
            None
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.region.is_empty() {
            f.write_str("*")
        } else {
            f.write_str(&self.region)
        }
    }
}

/// The fewest characters of a new password.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// The most characters of a new password.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// The most common passwords of published leaks (a few hundred), lower case.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Whether `password` is one of the most common passwords (without regard to case).
pub fn is_common_password(password: &str) -> bool {
    let p = password.to_lowercase();
    COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|l| l == p)
}

/// The password policy of every new password (a new account, a change, a
/// reset): at least [`PASSWORD_MIN_CHARS`] characters, at most
/// [`PASSWORD_MAX_CHARS`], not one of the most common passwords, not the user
/// name. The refusal says which rule, in words a form can show.
pub fn check_new_password(username: &str, password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(format!("a password needs at least {PASSWORD_MIN_CHARS} characters (this one has {n})"));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(format!("a password has at most {PASSWORD_MAX_CHARS} characters"));
    }
    if password.trim().to_lowercase() == username.trim().to_lowercase() {
        return Err("a password may not be the user name".into());
    }
    if is_common_password(password) {
        return Err("this password is one of the most common passwords; choose another".into());
    }
    Ok(())
}

/// How personal data is shown to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masking {
    Clear,
    Masked,
}

impl Masking {
    pub fn for_role(r: Role) -> Masking {
        if r.may(Permission::ViewUnmasked) {
            Masking::Clear
        } else {
            Masking::Masked
        }
    }

    pub fn id(self, id: ResidentId) -> String {
        match self {
            Masking::Clear => id.to_string(),
            Masking::Masked => id.masked(),
        }
    }

    /// A name as its first character and one star per further character
    /// (`张三丰` -> `张**`).
    pub fn name(self, name: &str) -> String {
        match self {
            Masking::Clear => name.to_string(),
            Masking::Masked => {
                let mut it = name.chars();
                match it.next() {
                    Some(c) => std::iter::once(c).chain(it.map(|_| '*')).collect(),
                    None => String::new(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table() {
        assert!(Role::Administrator.may(Permission::ManageUsers));
        assert!(!Role::Officer.may(Permission::ManageUsers));
        assert!(Role::Officer.may(Permission::MoveAlerts));
        assert!(!Role::Clerk.may(Permission::MoveAlerts));
        assert!(Role::Clerk.may(Permission::Settle));
        assert!(!Role::Analyst.may(Permission::ViewUnmasked));
        assert!(Role::Analyst.may(Permission::Export));
        assert!(!Role::Viewer.may(Permission::Export));
        assert!(Role::Analyst.may(Permission::Analyse) && Role::Administrator.may(Permission::Analyse));
        assert!(!Role::Viewer.may(Permission::Analyse) && !Role::Clerk.may(Permission::Analyse));
        assert_eq!("officer".parse::<Role>().unwrap(), Role::Officer);
        assert!("root".parse::<Role>().is_err());
        // A village doctor records visits and contracts of patients they know by
        // name, and does nothing else.
        let doctor: Vec<Permission> = Permission::ALL.into_iter().filter(|p| Role::VillageDoctor.may(*p)).collect();
        assert_eq!(doctor, vec![Permission::ViewUnmasked, Permission::Visit]);
        assert!(Role::Officer.may(Permission::Visit) && Role::VillageDoctor.within(Role::Officer));
        assert_eq!("village_doctor".parse::<Role>().unwrap(), Role::VillageDoctor);
    }

    #[test]
    fn a_role_within_another_holds_no_more() {
        for r in Role::ALL {
            assert!(r.within(Role::Administrator), "{r}");
            assert!(Role::Viewer.within(r), "{r}");
            assert!(r.within(r));
        }
        assert!(!Role::Administrator.within(Role::Officer));
        assert!(!Role::Clerk.within(Role::Officer), "a clerk imports, an officer does not");
        assert_eq!(Role::Clerk.beyond(Role::Officer), Some(Permission::Import));
        assert!(!Role::Analyst.within(Role::Officer), "an officer does not analyse");
        assert!(Role::Viewer.within(Role::Clerk));
        let (county, province) = (Scope::parse("341122").unwrap(), Scope::parse("34").unwrap());
        assert!(county.inside(&province) && county.inside(&Scope::all()) && county.inside(&county));
        assert!(!province.inside(&county) && !Scope::all().inside(&county));
        assert!(!Scope::parse("341123").unwrap().inside(&county));
    }

    #[test]
    fn the_password_policy() {
        assert!(check_new_password("wang", "password-1234").is_ok());
        assert!(check_new_password("wang", "short-pw").unwrap_err().contains("at least 10"));
        assert!(check_new_password("wang", &"x".repeat(129)).unwrap_err().contains("at most"));
        assert!(check_new_password("wang.jianguo", "Wang.Jianguo").unwrap_err().contains("user name"));
        for common in ["1234567890", "QwertyUiop", "password123", "woaini1314", "1q2w3e4r5t"] {
            assert!(check_new_password("wang", common).unwrap_err().contains("most common"), "{common}");
        }
        assert!(is_common_password("123456") && !is_common_password("# The most common"));
        assert!(COMMON_PASSWORDS.lines().filter(|l| !l.starts_with('#')).count() >= 300);
        for l in COMMON_PASSWORDS.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(l, l.trim().to_lowercase(), "lower case, no spaces around {l:?}");
        }
    }

    #[test]
    fn scope_admits_its_subtree_only() {
        let s = Scope::parse("341122").unwrap();
        assert!(s.admits(RegionCode::parse("341122100201").unwrap()));
        assert!(!s.admits(RegionCode::parse("341123100201").unwrap()));
        assert!(Scope::all().admits(RegionCode::parse("341123100201").unwrap()));
        assert!(Scope::parse("3411220").is_err());
        assert!(Scope::parse("341100").is_err(), "a city is written 3411");
        assert_eq!(s.narrow("34").as_deref(), Some("341122"));
        assert_eq!(s.narrow("341122100").as_deref(), Some("341122100"));
        assert_eq!(s.narrow("341123"), None);
    }

    #[test]
    fn a_scope_bound_to_a_facility_allows_that_facility_only() {
        let county = Scope::parse("341122").unwrap();
        assert!(county.allows_facility("H001") && county.allows_facility("H002"));
        let bound = county.clone().with_facility(Some(" H001 ".into()));
        assert_eq!(bound.facility(), Some("H001"));
        assert!(bound.allows_facility("H001") && !bound.allows_facility("H002") && !bound.allows_facility(""));
        assert_eq!((bound.prefix(), bound.to_string()), ("341122", "341122".to_string()), "the region is the same");
        assert_eq!(county.clone().with_facility(Some("  ".into())), county, "a blank facility binds nothing");
        assert_eq!(serde_json::to_string(&bound).unwrap(), "\"341122\"");
    }

    #[test]
    fn masking() {
        assert_eq!(Masking::Masked.name("张三丰"), "张**");
        assert_eq!(Masking::Clear.name("张三丰"), "张三丰");
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(Masking::Masked.id(id), "110105********002X");
    }
}
