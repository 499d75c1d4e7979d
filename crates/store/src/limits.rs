//! Plausibility limits on amounts (`domain::limits`), kept as data: the shipped
//! rows are written by the migration, administrators change them.

use crate::db::{begin_write, now, on_pool, ts, Store};
use crate::error::{Ctx, StoreError};
use domain::{AmountLimit, AmountLimits, Fen, LimitSubject};

/// The table, with the shipped limits (`AmountLimits::shipped`, in fen; a test
/// holds the two equal).
pub(crate) const V10: &str = r#"
CREATE TABLE amount_limits (
    subject TEXT NOT NULL CHECK (subject IN ('claim', 'measure')),
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    max_fen BIGINT NOT NULL CHECK (max_fen > 0),
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ,
    PRIMARY KEY (subject, kind, level)
);
INSERT INTO amount_limits (subject, kind, level, max_fen, changed_by) VALUES
    ('claim', '*', '*', 500000000, 'shipped'),
    ('claim', 'inpatient', 'village', 5000000, 'shipped'),
    ('claim', 'inpatient', 'township', 30000000, 'shipped'),
    ('claim', 'inpatient', 'county', 100000000, 'shipped'),
    ('claim', 'inpatient', 'municipal', 300000000, 'shipped'),
    ('claim', 'inpatient', 'provincial', 500000000, 'shipped'),
    ('claim', 'inpatient', 'out_of_province', 500000000, 'shipped'),
    ('claim', 'outpatient', '*', 10000000, 'shipped'),
    ('claim', 'outpatient', 'village', 500000, 'shipped'),
    ('claim', 'outpatient', 'township', 2000000, 'shipped'),
    ('claim', 'chronic_outpatient', '*', 50000000, 'shipped'),
    ('measure', '*', '*', 50000000, 'shipped')
"#;

impl Store {
    /// The limits in force.
    pub async fn amount_limits(&self) -> Result<AmountLimits, StoreError> {
        let rows: Vec<(String, String, String, i64)> = on_pool!(self, p => {
            sqlx::query_as("SELECT subject, kind, level, max_fen FROM amount_limits ORDER BY subject, kind, level")
                .fetch_all(p)
                .await
                .ctx("reading the plausibility limits")?
        });
        rows.into_iter()
            .map(|(subject, kind, level, max)| {
                let bad = |e: domain::DomainError| {
                    StoreError::Invalid(format!("amount_limits row ({subject}, {kind}, {level}): {e}"))
                };
                AmountLimit::new(LimitSubject::parse(&subject).map_err(bad)?, &kind, &level, Fen(max)).map_err(bad)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(AmountLimits)
    }

    /// Sets a limit (a new one, or a new maximum for its kind and level), or with
    /// `None` removes it.
    pub async fn set_amount_limit(
        &self,
        subject: LimitSubject,
        kind: &str,
        level: &str,
        max: Option<Fen>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let ctx = "changing a plausibility limit";
        on_pool!(self, p => {
            let mut tx = begin_write(p, ctx).await?;
            sqlx::query("DELETE FROM amount_limits WHERE subject = $1 AND kind = $2 AND level = $3")
                .bind(subject.as_str())
                .bind(kind)
                .bind(level)
                .execute(&mut *tx)
                .await
                .ctx(ctx)?;
            if let Some(max) = max {
                sqlx::query(
                    "INSERT INTO amount_limits (subject, kind, level, max_fen, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(subject.as_str())
                .bind(kind)
                .bind(level)
                .bind(max.0)
                .bind(actor)
                .bind(ts(now()))
                .execute(&mut *tx)
                .await
                .ctx(ctx)?;
            }
            tx.commit().await.ctx(ctx)?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_migration_ships_the_domains_limits() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let mut kept = store.amount_limits().await.unwrap().0;
        let mut shipped = AmountLimits::shipped().0;
        let key = |l: &AmountLimit| (l.subject, l.kind.clone(), l.level.clone());
        kept.sort_by_key(key);
        shipped.sort_by_key(key);
        assert_eq!(kept, shipped);
        store
            .set_amount_limit(LimitSubject::Measure, "临时救助", "*", Some(Fen::from_yuan(20_000)), "admin")
            .await
            .unwrap();
        let l = store.amount_limits().await.unwrap();
        assert_eq!(l.find(LimitSubject::Measure, "临时救助", "*").unwrap().max, Fen::from_yuan(20_000));
        store.set_amount_limit(LimitSubject::Measure, "临时救助", "*", None, "admin").await.unwrap();
        let l = store.amount_limits().await.unwrap();
        assert_eq!(l.find(LimitSubject::Measure, "临时救助", "*").unwrap().max, Fen::from_yuan(500_000));
    }
}
