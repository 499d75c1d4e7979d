//! Migration 14: claims are keyed by the facility that submitted them and their
//! ID there, `(claim_id, facility_id)`, instead of by a global claim ID, and so
//! are their settlements and the settlements' payments (docs/settlement.md,
//! "Claim keys"). A claim stored before keeps its facility (the empty one, for
//! claims imported without a `facility_id`); its settlement and payments take
//! their claim's.
//!
//! The key's columns are in the order `(claim_id, facility_id)`, so that the
//! key's index also finds a claim ID at every facility (the imports' look-up of
//! stored rows, the command line's claim named without its facility).
//!
//! PostgreSQL changes the keys in place. SQLite cannot change a primary key: the
//! three tables are rebuilt, as `roles.rs` rebuilds its tables, with foreign keys
//! off for the one connection doing it, rows copied, indexes made again (the
//! claims' order index now ends with the facility), the freshness triggers of the
//! three tables (`fresh.rs`) made again with the new key, and the references
//! checked before the commit.

use crate::error::{Ctx, StoreError};
use sqlx::{Connection, Row};

/// PostgreSQL's statements. The facilities copied into the settlements and
/// their payments are no change the derived data need to hear of: their
/// update triggers are off meanwhile.
pub(crate) const V14_POSTGRES: &str = r#"
ALTER TABLE settlement_payments DROP CONSTRAINT settlement_payments_claim_id_fkey;
ALTER TABLE settlements DROP CONSTRAINT settlements_claim_id_fkey;
ALTER TABLE settlement_payments DROP CONSTRAINT settlement_payments_pkey;
ALTER TABLE settlements DROP CONSTRAINT settlements_pkey;
ALTER TABLE claims DROP CONSTRAINT claims_pkey;
ALTER TABLE claims ADD CONSTRAINT claims_pkey PRIMARY KEY (claim_id, facility_id);
ALTER TABLE settlements ADD COLUMN facility_id TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_payments ADD COLUMN facility_id TEXT NOT NULL DEFAULT '';
ALTER TABLE settlements DISABLE TRIGGER fresh_settlements_update;
ALTER TABLE settlement_payments DISABLE TRIGGER fresh_settlement_payments_update;
UPDATE settlements s SET facility_id = c.facility_id FROM claims c WHERE c.claim_id = s.claim_id AND c.facility_id <> '';
UPDATE settlement_payments sp SET facility_id = s.facility_id FROM settlements s
    WHERE s.claim_id = sp.claim_id AND s.facility_id <> '';
ALTER TABLE settlements ENABLE TRIGGER fresh_settlements_update;
ALTER TABLE settlement_payments ENABLE TRIGGER fresh_settlement_payments_update;
ALTER TABLE settlements ADD CONSTRAINT settlements_pkey PRIMARY KEY (claim_id, facility_id);
ALTER TABLE settlements ADD CONSTRAINT settlements_claim_fkey
    FOREIGN KEY (claim_id, facility_id) REFERENCES claims (claim_id, facility_id);
ALTER TABLE settlement_payments ADD CONSTRAINT settlement_payments_pkey PRIMARY KEY (claim_id, facility_id, position);
ALTER TABLE settlement_payments ADD CONSTRAINT settlement_payments_settlement_fkey
    FOREIGN KEY (claim_id, facility_id) REFERENCES settlements (claim_id, facility_id) ON DELETE CASCADE;
DROP INDEX claims_year_order;
CREATE INDEX claims_year_order ON claims (year, discharged, claim_id, facility_id);

CREATE OR REPLACE FUNCTION fresh_settlements() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A new settlement's person is its claim's.
        ids := ARRAY(SELECT DISTINCT person_id FROM new_rows);
        PERFORM fresh_villages(TRUE, FALSE, fresh_village_of_persons(ids));
        PERFORM fresh_persons(ids);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT DISTINCT person_id FROM old_rows);
        PERFORM fresh_villages(TRUE, FALSE, ARRAY(
            SELECT h.village_code FROM old_rows x JOIN claims c ON c.claim_id = x.claim_id AND c.facility_id = x.facility_id
            JOIN persons p ON p.person_id = c.person_id JOIN households h ON h.household_id = p.household_id));
    ELSE
        ids := ARRAY(SELECT person_id FROM old_rows UNION SELECT person_id FROM new_rows);
        PERFORM fresh_villages(TRUE, FALSE, ARRAY(
            SELECT h.village_code FROM (SELECT claim_id, facility_id FROM old_rows
                                        UNION SELECT claim_id, facility_id FROM new_rows) x
            JOIN claims c ON c.claim_id = x.claim_id AND c.facility_id = x.facility_id
            JOIN persons p ON p.person_id = c.person_id JOIN households h ON h.household_id = p.household_id));
    END IF;
    PERFORM fresh_persons(ids);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fresh_settlement_payments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fresh_persons(ARRAY(
            SELECT s.person_id FROM (SELECT DISTINCT claim_id, facility_id FROM new_rows) x
            JOIN settlements s ON s.claim_id = x.claim_id AND s.facility_id = x.facility_id));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fresh_persons(ARRAY(
            SELECT s.person_id FROM (SELECT DISTINCT claim_id, facility_id FROM old_rows) x
            JOIN settlements s ON s.claim_id = x.claim_id AND s.facility_id = x.facility_id));
    ELSE
        PERFORM fresh_persons(ARRAY(
            SELECT s.person_id FROM (SELECT claim_id, facility_id FROM old_rows
                                     UNION SELECT claim_id, facility_id FROM new_rows) x
            JOIN settlements s ON s.claim_id = x.claim_id AND s.facility_id = x.facility_id));
    END IF;
    RETURN NULL;
END $$;
"#;

/// SQLite's tables as they are after migration 14.
const V14_SQLITE_TABLES: [(&str, &str, &str); 3] = [
    (
        "claims",
        "CREATE TABLE claims_keyed (
    claim_id TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons (person_id),
    facility_level TEXT NOT NULL,
    kind TEXT NOT NULL,
    admitted DATE NOT NULL,
    discharged DATE NOT NULL,
    year BIGINT NOT NULL,
    total_cost BIGINT NOT NULL CHECK (total_cost >= 0),
    eligible_cost BIGINT NOT NULL CHECK (eligible_cost >= 0 AND eligible_cost <= total_cost),
    diagnosis TEXT NOT NULL DEFAULT '',
    facility_id TEXT NOT NULL DEFAULT '',
    voided BOOLEAN NOT NULL DEFAULT FALSE,
    voided_at TIMESTAMPTZ,
    voided_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (claim_id, facility_id)
)",
        "INSERT INTO claims_keyed SELECT * FROM claims",
    ),
    (
        "settlements",
        "CREATE TABLE settlements_keyed (
    claim_id TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons (person_id),
    year BIGINT NOT NULL,
    policy_id BIGINT REFERENCES policies (id),
    policy_version BIGINT,
    total_cost BIGINT NOT NULL,
    eligible_cost BIGINT NOT NULL,
    out_of_pocket BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'general',
    settled_at TIMESTAMPTZ NOT NULL,
    settled_by TEXT NOT NULL DEFAULT '',
    explanation TEXT,
    facility_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (claim_id, facility_id),
    FOREIGN KEY (claim_id, facility_id) REFERENCES claims (claim_id, facility_id)
)",
        "INSERT INTO settlements_keyed SELECT s.*, c.facility_id FROM settlements s JOIN claims_keyed c ON c.claim_id = s.claim_id",
    ),
    (
        "settlement_payments",
        "CREATE TABLE settlement_payments_keyed (
    claim_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    tier TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    facility_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (claim_id, facility_id, position),
    FOREIGN KEY (claim_id, facility_id) REFERENCES settlements (claim_id, facility_id) ON DELETE CASCADE
)",
        "INSERT INTO settlement_payments_keyed SELECT sp.*, s.facility_id FROM settlement_payments sp
         JOIN settlements_keyed s ON s.claim_id = sp.claim_id",
    ),
];

/// SQLite's freshness triggers of the three tables (dropped with them), with
/// the new key; the claims' are those of migration 5.
const V14_SQLITE_TRIGGERS: &str = r#"
CREATE TRIGGER fresh_claims_update AFTER UPDATE ON claims BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT DISTINCT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
        WHERE p.person_id IN (OLD.person_id, NEW.person_id)
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT p FROM (SELECT OLD.person_id AS p UNION SELECT NEW.person_id) WHERE true
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_claims_delete AFTER DELETE ON claims BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
        WHERE p.person_id = OLD.person_id
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty_persons (person_id) VALUES (OLD.person_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;

CREATE TRIGGER fresh_settlements_update AFTER UPDATE ON settlements BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT DISTINCT h.village_code FROM claims c JOIN persons p ON p.person_id = c.person_id
        JOIN households h ON h.household_id = p.household_id
        WHERE (c.claim_id = OLD.claim_id AND c.facility_id = OLD.facility_id)
           OR (c.claim_id = NEW.claim_id AND c.facility_id = NEW.facility_id)
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT p FROM (SELECT OLD.person_id AS p UNION SELECT NEW.person_id) WHERE true
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_settlements_delete AFTER DELETE ON settlements BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT h.village_code FROM claims c JOIN persons p ON p.person_id = c.person_id
        JOIN households h ON h.household_id = p.household_id
        WHERE c.claim_id = OLD.claim_id AND c.facility_id = OLD.facility_id
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty_persons (person_id) VALUES (OLD.person_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;

CREATE TRIGGER fresh_settlement_payments_update AFTER UPDATE ON settlement_payments BEGIN
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT DISTINCT person_id FROM settlements
        WHERE (claim_id = OLD.claim_id AND facility_id = OLD.facility_id)
           OR (claim_id = NEW.claim_id AND facility_id = NEW.facility_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_settlement_payments_delete AFTER DELETE ON settlement_payments BEGIN
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT person_id FROM settlements WHERE claim_id = OLD.claim_id AND facility_id = OLD.facility_id
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
"#;

/// Runs migration 14 on SQLite, recording it as `name`, all in one transaction.
pub(crate) async fn migrate_sqlite(pool: &sqlx::SqlitePool, version: i64, name: &str) -> Result<(), StoreError> {
    let ctx = "migrating the store: claims keyed by facility";
    let mut conn = pool.acquire().await.ctx(ctx)?;
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.ctx(ctx)?;
    // The old tables are dropped before the new ones take their names: no
    // trigger or view may be checked against the names meanwhile.
    sqlx::query("PRAGMA legacy_alter_table = ON").execute(&mut *conn).await.ctx(ctx)?;
    let result = async {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.ctx(ctx)?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .ctx(ctx)?;
        if done.is_some() {
            return Ok(());
        }
        let mut indexes = Vec::new();
        for (table, create, copy) in V14_SQLITE_TABLES {
            let found: Vec<String> =
                sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL")
                    .bind(table)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx(ctx)?
                    .iter()
                    .map(|r| r.get::<String, _>(0))
                    .collect();
            indexes.extend(found.into_iter().map(|sql| {
                if sql.contains("claims_year_order") {
                    "CREATE INDEX claims_year_order ON claims (year, discharged, claim_id, facility_id)".to_string()
                } else {
                    sql
                }
            }));
            sqlx::query(create).execute(&mut *tx).await.ctx(ctx)?;
            sqlx::query(copy).execute(&mut *tx).await.ctx(ctx)?;
        }
        // Every row came across: a claim's settlement found its claim, a
        // payment its settlement.
        for (table, ..) in V14_SQLITE_TABLES {
            let counts: (i64, i64) =
                sqlx::query_as(&format!("SELECT (SELECT COUNT(*) FROM {table}), (SELECT COUNT(*) FROM {table}_keyed)"))
                    .fetch_one(&mut *tx)
                    .await
                    .ctx(ctx)?;
            if counts.0 != counts.1 {
                return Err(StoreError::Invalid(format!(
                    "{ctx}: {} of the {} rows of {table} would not come across",
                    counts.0 - counts.1,
                    counts.0
                )));
            }
        }
        for table in ["settlement_payments", "settlements", "claims"] {
            sqlx::query(&format!("DROP TABLE {table}")).execute(&mut *tx).await.ctx(ctx)?;
        }
        for (table, ..) in V14_SQLITE_TABLES {
            sqlx::query(&format!("ALTER TABLE {table}_keyed RENAME TO {table}")).execute(&mut *tx).await.ctx(ctx)?;
        }
        for index in indexes {
            sqlx::query(&index).execute(&mut *tx).await.ctx(ctx)?;
        }
        sqlx::raw_sql(V14_SQLITE_TRIGGERS).execute(&mut *tx).await.ctx(ctx)?;
        let broken: Vec<sqlx::sqlite::SqliteRow> =
            sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await.ctx(ctx)?;
        if !broken.is_empty() {
            return Err(StoreError::Invalid(format!("{ctx}: {} references broken by the rebuild", broken.len())));
        }
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(name)
            .bind(crate::db::now())
            .execute(&mut *tx)
            .await
            .ctx(ctx)?;
        tx.commit().await.ctx(ctx)?;
        Ok(())
    }
    .await;
    // Back as they were, whatever happened, before the connection returns to the pool.
    sqlx::query("PRAGMA legacy_alter_table = OFF").execute(&mut *conn).await.ctx(ctx)?;
    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await.ctx(ctx)?;
    result
}
