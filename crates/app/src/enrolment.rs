//! Basic medical insurance enrolment (docs/desk.md, "Enrolment"): a person's
//! enrolment by year with the premium-subsidy category, read and set inside a
//! region scope, imported from a file all or nothing, every change audited.
//! Settlement reads it in the store's unit of work (a tier entry with
//! `requires_enrolment` pays nothing to a person not enrolled for the year).

use crate::access::Scope;
use crate::model::{AppError, AppResult};
use crate::service::{scope, App};
use domain::{Enrolment, ResidentId};
use store::StoredEnrolment;

impl App {
    /// A person's enrolments by year; a person outside the scope is not found.
    pub async fn enrolments(&self, s: &Scope, person: ResidentId) -> AppResult<Vec<StoredEnrolment>> {
        self.store()
            .enrolments_of(&scope(s)?, person)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person {} is not in your scope", person.masked())))
    }

    /// Sets enrolments (each labelled for its refusal: a file's line, a form),
    /// all or none; a person not in the store inside the scope refuses them all.
    /// Audited: one row for one enrolment, one for a file.
    pub async fn set_enrolments(&self, s: &Scope, rows: &[(String, Enrolment)], actor: &str) -> AppResult<usize> {
        let villages = {
            let _turn = self.writing().await;
            self.store().set_enrolments(&scope(s)?, rows, actor).await?
        };
        let (target, detail, region) = match rows {
            [(_, e)] => (
                format!("person {}", e.person_id),
                format!("{}: {} ({}), enrolled on {}", e.year, e.category, e.category.zh(), e.enrolled_on),
                villages.first().copied(),
            ),
            _ => (
                "enrolments".to_string(),
                format!("{} enrolments", rows.len()),
                crate::work::region_of_prefix(s.prefix()),
            ),
        };
        self.audit_event(actor, "enrolment_set", target, detail, region).await?;
        Ok(rows.len())
    }
}

impl crate::import::WorkRecord for Enrolment {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, _today: chrono::NaiveDate) -> AppResult<usize> {
        app.set_enrolments(&Scope::all(), &rows, actor).await
    }
}
