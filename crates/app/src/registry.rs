//! The registry kept by county officers one record at a time (docs/work.md,
//! "The registry by hand"): households and persons created, and changed with a
//! reason. A form's fields are checked exactly as an import row's (the same
//! `domain::Record::from_fields`), a change names the record as the officer read
//! it so that a concurrent change is a conflict, and each change is audited
//! with its reason, before and after.

use crate::access::Scope;
use crate::model::{AppError, AppResult};
use crate::service::{scope, App};
use domain::{Household, Person, Record};
use std::collections::BTreeMap;

/// A record from a form's fields, named by the file columns; a missing optional
/// field is empty, an unknown one is refused.
pub fn record_from<R: Record>(fields: &BTreeMap<String, String>) -> AppResult<R> {
    if let Some(unknown) = fields.keys().find(|k| !R::COLUMNS.iter().any(|c| c.name == k.as_str())) {
        let known: Vec<&str> = R::COLUMNS.iter().map(|c| c.name).collect();
        return Err(AppError::Invalid(format!("{unknown}: not a field of {} ({})", R::KIND, known.join(", "))));
    }
    let values: Vec<&str> = R::COLUMNS.iter().map(|c| fields.get(c.name).map_or("", String::as_str)).collect();
    R::from_fields(&values).map_err(|e| AppError::Invalid(format!("{}: {}", e.column, e.reason)))
}

/// The record's fields by column, as a form shows them.
pub fn fields_of<R: Record>(r: &R) -> BTreeMap<String, String> {
    R::COLUMNS.iter().map(|c| c.name.to_string()).zip(r.to_fields()).collect()
}

/// A short tag of a record's fields: what a client that read the record sends
/// back with its change (an HTTP entity tag), so that a change made meanwhile
/// is found (FNV-1a over the fields; stable across runs and builds).
pub fn etag<R: Record>(r: &R) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in r.to_fields() {
        for b in f.bytes().chain([0x1f]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Refuses a change made on a read the record no longer matches.
fn as_read<R: ByHand>(kept: &R, id: &str, tag: &str) -> AppResult<()> {
    if etag(kept) != tag.trim() {
        return Err(AppError::Conflict(format!("{} {id} changed since you read it; reload it", R::NOUN)));
    }
    Ok(())
}

fn what_changed<R: Record>(before: &R, after: &R) -> String {
    let (b, a) = (before.to_fields(), after.to_fields());
    R::COLUMNS
        .iter()
        .zip(b.iter().zip(&a))
        .filter(|(_, (x, y))| x != y)
        .map(|(c, (x, y))| format!("{}: {x:?} -> {y:?}", c.name))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A registry record kept by hand: how the store creates and changes it.
trait ByHand: Record + PartialEq + Send + Sync {
    /// The record's noun in the audit log.
    const NOUN: &'static str;
    /// The village the record lives in, for the audit log's region.
    fn village(
        &self,
        store: &store::Store,
    ) -> impl std::future::Future<Output = Result<Option<domain::RegionCode>, store::StoreError>> + Send;
    fn create(
        &self,
        store: &store::Store,
        scope: &store::Scope,
    ) -> impl std::future::Future<Output = Result<(), store::StoreError>> + Send;
    fn change(
        store: &store::Store,
        scope: &store::Scope,
        before: &Self,
        after: &Self,
    ) -> impl std::future::Future<Output = Result<(), store::StoreError>> + Send;
}

impl ByHand for Household {
    const NOUN: &'static str = "household";
    async fn village(&self, _: &store::Store) -> Result<Option<domain::RegionCode>, store::StoreError> {
        Ok(Some(self.village_code))
    }
    async fn create(&self, store: &store::Store, scope: &store::Scope) -> Result<(), store::StoreError> {
        store.create_household(scope, self).await
    }
    async fn change(
        store: &store::Store,
        scope: &store::Scope,
        before: &Self,
        after: &Self,
    ) -> Result<(), store::StoreError> {
        store.change_household(scope, before, after).await
    }
}

impl ByHand for Person {
    const NOUN: &'static str = "person";
    async fn village(&self, store: &store::Store) -> Result<Option<domain::RegionCode>, store::StoreError> {
        Ok(store.get::<Household>(&self.household_id).await?.map(|h| h.village_code))
    }
    async fn create(&self, store: &store::Store, scope: &store::Scope) -> Result<(), store::StoreError> {
        store.create_person(scope, self).await
    }
    async fn change(
        store: &store::Store,
        scope: &store::Scope,
        before: &Self,
        after: &Self,
    ) -> Result<(), store::StoreError> {
        store.change_person(scope, before, after).await
    }
}

impl App {
    async fn audit_registry<R: ByHand>(&self, actor: &str, action: &str, r: &R, detail: String) -> AppResult<()> {
        let region = r.village(self.store()).await?;
        self.audit_event(actor, action, format!("{} {}", R::NOUN, r.key()), detail, region).await
    }

    /// The household inside the scope, as a form reads it.
    pub async fn household_in_scope(&self, s: &Scope, id: &str) -> AppResult<Household> {
        let scope = scope(s)?;
        self.store()
            .get::<Household>(id.trim())
            .await?
            .filter(|h| scope.contains(h.village_code))
            .ok_or_else(|| AppError::NotFound(format!("household {id:?} is not in your scope")))
    }

    /// The person inside the scope, as a form reads it.
    pub async fn person_in_scope(&self, s: &Scope, id: &str) -> AppResult<Person> {
        let not_found = || AppError::NotFound(format!("person {id:?} is not in your scope"));
        let p = self.store().get::<Person>(id.trim()).await?.ok_or_else(not_found)?;
        self.household_in_scope(s, &p.household_id).await.map_err(|_| not_found())?;
        Ok(p)
    }

    /// Changes a household the client read with tag `etag` (see [`etag`]).
    pub async fn change_household_tagged(
        &self,
        s: &Scope,
        id: &str,
        tag: &str,
        fields: &BTreeMap<String, String>,
        reason: &str,
        actor: &str,
    ) -> AppResult<Household> {
        let before = self.household_in_scope(s, id).await?;
        as_read(&before, id, tag)?;
        self.change_household(s, &before, fields, reason, actor).await
    }

    /// Changes a person the client read with tag `etag` (see [`etag`]).
    pub async fn change_person_tagged(
        &self,
        s: &Scope,
        id: &str,
        tag: &str,
        fields: &BTreeMap<String, String>,
        reason: &str,
        actor: &str,
    ) -> AppResult<Person> {
        let before = self.person_in_scope(s, id).await?;
        as_read(&before, id, tag)?;
        self.change_person(s, &before, fields, reason, actor).await
    }

    /// Creates a record inside the scope from a form's fields.
    async fn create_by_hand<R: ByHand>(
        &self,
        s: &Scope,
        fields: &BTreeMap<String, String>,
        actor: &str,
    ) -> AppResult<R> {
        let r: R = record_from(fields)?;
        {
            let _turn = self.writing().await;
            r.create(self.store(), &scope(s)?).await?;
        }
        let detail = format!("{:?}", fields_of(&r));
        self.audit_registry(actor, &format!("{}_create", R::NOUN), &r, detail).await?;
        Ok(r)
    }

    /// Changes a record inside the scope: `before` is the record as the officer
    /// read it, `fields` the form's changed fields, `reason` why.
    async fn change_by_hand<R: ByHand>(
        &self,
        s: &Scope,
        before: &R,
        fields: &BTreeMap<String, String>,
        reason: &str,
        actor: &str,
    ) -> AppResult<R> {
        if reason.trim().is_empty() {
            return Err(AppError::Invalid(format!("reason: say why the {} changes", R::NOUN)));
        }
        let mut all = fields_of(before);
        all.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        let after: R = record_from(&all)?;
        {
            let _turn = self.writing().await;
            R::change(self.store(), &scope(s)?, before, &after).await?;
        }
        let detail = format!("{}; reason: {}", what_changed(before, &after), reason.trim());
        self.audit_registry(actor, &format!("{}_change", R::NOUN), &after, detail).await?;
        Ok(after)
    }

    /// Creates a household inside the scope from a form's fields.
    pub async fn create_household(&self, s: &Scope, f: &BTreeMap<String, String>, actor: &str) -> AppResult<Household> {
        self.create_by_hand(s, f, actor).await
    }

    /// Changes a household from `before` as read (see `change_by_hand`).
    pub async fn change_household(
        &self,
        s: &Scope,
        before: &Household,
        f: &BTreeMap<String, String>,
        reason: &str,
        actor: &str,
    ) -> AppResult<Household> {
        self.change_by_hand(s, before, f, reason, actor).await
    }

    /// Creates a person inside the scope from a form's fields.
    pub async fn create_person(&self, s: &Scope, f: &BTreeMap<String, String>, actor: &str) -> AppResult<Person> {
        self.create_by_hand(s, f, actor).await
    }

    /// Changes a person (a status with its day, a diagnosis, a move to another
    /// household) from `before` as read (see `change_by_hand`).
    pub async fn change_person(
        &self,
        s: &Scope,
        before: &Person,
        f: &BTreeMap<String, String>,
        reason: &str,
        actor: &str,
    ) -> AppResult<Person> {
        self.change_by_hand(s, before, f, reason, actor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_changes_with_any_field_and_only_then() {
        let f = |income: &str| -> BTreeMap<String, String> {
            [("household_id", "H1"), ("village_code", "341122100201"), ("size", "3"), ("income", income)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let a: Household = record_from(&f("30000")).unwrap();
        let b: Household = record_from(&f("30000")).unwrap();
        let c: Household = record_from(&f("30000.01")).unwrap();
        assert_eq!(etag(&a), etag(&b));
        assert_ne!(etag(&a), etag(&c));
        assert_eq!(etag(&a).len(), 16);
    }
}
