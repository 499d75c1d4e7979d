//! The registry kept by county officers one record at a time (docs/work.md,
//! "The registry by hand"): households and persons created, and changed with a
//! reason. A form's fields are checked exactly as an import row's (the same
//! `domain::Record::from_fields`), a change names the record as the officer read
//! it so that a concurrent change is a conflict, and each change is audited
//! with its reason, before and after.

use crate::access::Scope;
use crate::model::{AppError, AppResult, AuditEntry};
use crate::service::App;
use chrono::Utc;
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

fn store_scope(s: &Scope) -> AppResult<store::Scope> {
    store::Scope::new(s.prefix()).map_err(|e| AppError::Invalid(e.to_string()))
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

impl App {
    async fn audit_registry(&self, actor: &str, action: &str, target: String, detail: String) -> AppResult<()> {
        self.audit(AuditEntry { at: Utc::now(), username: actor.into(), action: action.into(), target, detail }).await
    }

    /// Creates a household inside the scope from a form's fields.
    pub async fn create_household(
        &self,
        s: &Scope,
        fields: &BTreeMap<String, String>,
        actor: &str,
    ) -> AppResult<Household> {
        let h: Household = record_from(fields)?;
        {
            let _turn = self.writing().await;
            self.store().create_household(&store_scope(s)?, &h).await?;
        }
        let detail = format!("{:?}", fields_of(&h));
        self.audit_registry(actor, "household_create", format!("household {}", h.household_id), detail).await?;
        Ok(h)
    }

    /// Changes a household inside the scope: `before` is the record as the
    /// officer read it, `fields` the form, `reason` why.
    pub async fn change_household(
        &self,
        s: &Scope,
        before: &Household,
        fields: &BTreeMap<String, String>,
        reason: &str,
        actor: &str,
    ) -> AppResult<Household> {
        if reason.trim().is_empty() {
            return Err(AppError::Invalid("reason: say why the household changes".into()));
        }
        let mut all = fields_of(before);
        all.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        let after: Household = record_from(&all)?;
        {
            let _turn = self.writing().await;
            self.store().change_household(&store_scope(s)?, before, &after).await?;
        }
        let detail = format!("{}; reason: {}", what_changed(before, &after), reason.trim());
        self.audit_registry(actor, "household_change", format!("household {}", after.household_id), detail).await?;
        Ok(after)
    }

    /// Creates a person inside the scope from a form's fields.
    pub async fn create_person(&self, s: &Scope, fields: &BTreeMap<String, String>, actor: &str) -> AppResult<Person> {
        let p: Person = record_from(fields)?;
        {
            let _turn = self.writing().await;
            self.store().create_person(&store_scope(s)?, &p).await?;
        }
        let detail = format!("{:?}", fields_of(&p));
        self.audit_registry(actor, "person_create", format!("person {}", p.person_id), detail).await?;
        Ok(p)
    }

    /// Changes a person inside the scope (a status with its day, a diagnosis, a
    /// move to another household), from `before` as read, with a reason.
    pub async fn change_person(
        &self,
        s: &Scope,
        before: &Person,
        fields: &BTreeMap<String, String>,
        reason: &str,
        actor: &str,
    ) -> AppResult<Person> {
        if reason.trim().is_empty() {
            return Err(AppError::Invalid("reason: say why the person's record changes".into()));
        }
        let mut all = fields_of(before);
        all.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        let after: Person = record_from(&all)?;
        {
            let _turn = self.writing().await;
            self.store().change_person(&store_scope(s)?, before, &after).await?;
        }
        let detail = format!("{}; reason: {}", what_changed(before, &after), reason.trim());
        self.audit_registry(actor, "person_change", format!("person {}", after.person_id), detail).await?;
        Ok(after)
    }
}
