//! How the derived data learn that their sources changed: the one freshness
//! mechanism behind the overview's figures by village (`figures.rs`) and the
//! kept indicator facts (`indicator_facts.rs`).
//!
//! Three tables name what is stale, each key with a `version` that every
//! transaction marking it changes (SQLite raises it by one, as the write lock
//! lets one writer mark at a time; PostgreSQL sets it to the marking
//! transaction's id, so that a transaction marks a key once however many of
//! its statements touch it), so that a refresh clears a key only at the
//! version it read (a write that commits during a refresh leaves its key stale):
//!
//! - `dirty_villages`: villages whose figures are stale;
//! - `indicator_dirty`: villages whose indicator facts of the registry and the
//!   alerts are stale;
//! - `indicator_dirty_persons`: persons whose indicator facts of claims are stale.
//!
//! A change to the network (regions, facilities, practitioners) clears every
//! kept year's `coverage_as_of`, so that the villages' reach is measured again.
//!
//! The marks are made by the writes themselves, never by the write paths:
//!
//! - **Triggers** (migration 5; those of claims, settlements and payments made
//!   again by migration 14, which keys them by facility) on every table whose
//!   rows feed a figure or a fact. On PostgreSQL, statement-level triggers with transition tables, for
//!   every insert, update and delete: one set-based statement per written
//!   statement, whatever its number of rows. On SQLite, row triggers for every
//!   update and delete, and for the inserts into the tables that are not
//!   written in bulk (alerts, their events and measures, the patient ledger).
//! - **The unit of work** ([`commit`]) for the inserts into the tables SQLite
//!   writes in bulk ([`UNIT_OF_WORK_TABLES`]: the registry's imports, claims,
//!   settlements and their payments): there a row trigger costs about as much
//!   as the row itself (an import of a million persons took twice as long with
//!   one, a batch settlement of a county 40% longer), so each write names what
//!   it inserted ([`Inserted`]) and [`commit`] marks it with a few set-based
//!   statements before it commits. On PostgreSQL [`commit`] only commits.
//!   SQLite itself guards this: every connection of the store carries an update
//!   hook and a commit hook ([`guard`]), and a transaction that inserted into
//!   one of those tables without passing through [`commit`] is rolled back at
//!   its commit, in debug builds (the tests; a release build installs no hook).
//!   The write of claims' itemised bills (`items.rs`) updates the eligible cost
//!   of a day's claims at once: on SQLite it holds the row of
//!   `claims_marked_by_writer` meanwhile, so that the claims' row trigger marks
//!   nothing, and names the claims whose eligible cost changed to [`commit`]
//!   instead, with the same marks (migration 29).
//!
//! What each derived datum reads, and so what marks it:
//!
//! | Source | `dirty_villages` (figures) | `indicator_dirty` (registry, alerts) | `indicator_dirty_persons` (claims) |
//! |---|---|---|---|
//! | households | the village, old and new, on insert, delete, move | the village, old and new, on any change | the members, on a move |
//! | persons | the household's village, old and new, on insert, delete, move, status change | the same, on any change | the person, on update and delete |
//! | claims | the person's village | | the person, old and new |
//! | settlements | the person's village (on update and delete, the claim's person's) | | the settlement's person |
//! | settlement_payments | | | the settlement's person |
//! | alerts | the alert's village, when open or moved between states | the household's village, unless only the measured value changed | |
//! | alert_events | | the alert's household's village, for `resolved` | |
//! | assistance_measures | | the alert's household's village | |
//! | patient_ledger | | the person's village, for a line with a contract | |
//! | regions, facilities, practitioners | | | (`coverage_as_of` cleared) |
//!
//! A person's claim facts depend on the household only through its village, so
//! only a household's move marks its members. A new person has no claims yet,
//! and a new household no members: neither marks persons.

use crate::error::{Ctx, StoreError};
use crate::raw::RawError;
use crate::vals::{placeholders, Val};
use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, Weak};

/// The tables whose inserts SQLite marks by the unit of work (the bulk-imported
/// ones); every other write, on SQLite, is marked by a trigger.
pub(crate) const UNIT_OF_WORK_TABLES: [&str; 8] =
    ["households", "persons", "claims", "settlements", "settlement_payments", "regions", "facilities", "practitioners"];

/// The rows a write inserted into [`UNIT_OF_WORK_TABLES`], as far as the marks
/// need them: the villages of the households and persons inserted, the persons
/// of the claims, settlements and payments inserted and their villages, and
/// whether the network grew.
#[derive(Debug, Default)]
pub(crate) struct Inserted {
    /// Villages of the households and persons inserted (both village tables).
    villages: BTreeSet<i64>,
    /// Villages of the persons of the claims and settlements inserted (the figures).
    claim_villages: BTreeSet<i64>,
    /// Persons of the claims, settlements and payments inserted.
    persons: BTreeSet<i64>,
    /// Households of persons inserted, and persons of claims inserted, whose
    /// villages are looked up at the commit.
    households_to_look_up: HashSet<String>,
    persons_to_look_up: BTreeSet<i64>,
    network: bool,
    /// Villages found already, by household and by person (an import finds
    /// them as it checks its references, see [`village_lookup`]).
    household_villages: domain::FastMap<String, i64>,
    person_villages: domain::FastMap<i64, i64>,
}

/// A query of one parameter, a key of `table`, that finds the row's village,
/// where rows inserted into [`UNIT_OF_WORK_TABLES`] name a row of `table` whose
/// village they count in (persons their household, claims their person). An
/// import that checks its references with it hands the villages found to
/// [`Inserted::found`], so that its commit need not look them up again.
pub(crate) fn village_lookup(table: &str) -> Option<&'static str> {
    match table {
        "households" => Some("SELECT village_code FROM households WHERE household_id = ?1"),
        "persons" => Some(
            "SELECT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
             WHERE p.person_id = ?1",
        ),
        _ => None,
    }
}

impl Inserted {
    /// The village of the row of `table` keyed by `key`, found by the query of
    /// [`village_lookup`].
    pub(crate) fn found(&mut self, table: &str, key: &Val<'_>, village: i64) {
        match (table, key) {
            ("households", Val::T(Some(h))) => {
                self.household_villages.insert(h.to_string(), village);
            }
            ("persons", Val::I(Some(p))) => {
                self.person_villages.insert(*p, village);
            }
            _ => {}
        }
    }

    /// Names rows inserted into `table`, each given as the values of the
    /// table's columns `cols`, in that order.
    pub(crate) fn rows(&mut self, table: &str, cols: &[&str], rows: &[&Vec<Val<'_>>]) {
        let col = |name: &str| cols.iter().position(|c| *c == name).unwrap_or_else(|| panic!("{table}.{name}"));
        match table {
            "households" => {
                let i = col("village_code");
                self.villages.extend(rows.iter().filter_map(|r| r[i].as_i64()));
            }
            "persons" => {
                let i = col("household_id");
                // A household's persons come together: each run is looked at once.
                let mut last: Option<&str> = None;
                for h in rows.iter().filter_map(|r| r[i].as_str()) {
                    if last != Some(h) {
                        match self.household_villages.get(h) {
                            Some(v) => {
                                self.villages.insert(*v);
                            }
                            None => {
                                self.households_to_look_up.insert(h.to_string());
                            }
                        }
                    }
                    last = Some(h);
                }
            }
            "claims" => {
                let i = col("person_id");
                for p in rows.iter().filter_map(|r| r[i].as_i64()) {
                    self.claims_of(p, None);
                }
            }
            "regions" | "facilities" | "practitioners" => self.network |= !rows.is_empty(),
            _ => {}
        }
    }

    /// Names a claim of `person`, who lives in `village`, that the write
    /// updated while it held the row of `claims_marked_by_writer` (migration
    /// 29): the marks the trigger `fresh_claims_update` would have made for it
    /// (the person, and the village's figures), made at the commit instead.
    pub(crate) fn claim_updated(&mut self, person: i64, village: i64) {
        self.claims_of(person, Some(village));
    }

    /// Names claims, settlements or payments inserted of the person `person`,
    /// who lives in `village` where the writer knows it.
    pub(crate) fn claims_of(&mut self, person: i64, village: Option<i64>) {
        if let Some(v) = village {
            self.person_villages.entry(person).or_insert(v);
        }
        if self.persons.insert(person) {
            match self.person_villages.get(&person) {
                Some(v) => {
                    self.claim_villages.insert(*v);
                }
                None => {
                    self.persons_to_look_up.insert(person);
                }
            }
        }
    }
}

/// `INSERT INTO table (key) VALUES ... ON CONFLICT`: new marks, or the versions
/// of marks already there raised (the statement the triggers run).
fn mark_sql(table: &str, key: &str, rows: usize) -> String {
    format!(
        "INSERT INTO {table} ({key}) VALUES {} ON CONFLICT ({key}) DO UPDATE SET version = {table}.version + 1",
        placeholders(rows, 1)
    )
}

/// Commits a write transaction, the unit of work: on SQLite it first marks what
/// the rows of `inserted` feed (triggers marked the transaction's other
/// writes); on PostgreSQL the triggers marked everything and it only commits.
pub(crate) async fn commit<DB: UnitOfWork>(
    mut tx: sqlx::Transaction<'_, DB>,
    inserted: Inserted,
    ctx: &str,
) -> Result<(), StoreError> {
    DB::mark_inserted(&mut tx, inserted, ctx).await?;
    tx.commit().await.ctx(ctx)
}

/// How each engine marks what a transaction inserted into [`UNIT_OF_WORK_TABLES`].
pub(crate) trait UnitOfWork: sqlx::Database {
    fn mark_inserted(
        conn: &mut Self::Connection,
        inserted: Inserted,
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// PostgreSQL: the statement triggers marked the inserts.
impl UnitOfWork for sqlx::Postgres {
    async fn mark_inserted(_conn: &mut Self::Connection, _inserted: Inserted, _ctx: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// SQLite: the villages of the households and persons inserted, in both village
/// tables; the persons of the claims inserted, and their villages' figures; the
/// network's coverage. A village not found yet is looked up once per distinct
/// household or person, through SQLite's own interface; the marks go out a few
/// hundred a statement.
impl UnitOfWork for sqlx::Sqlite {
    async fn mark_inserted(conn: &mut Self::Connection, inserted: Inserted, ctx: &str) -> Result<(), StoreError> {
        let mut handle = conn.lock_handle().await.ctx(ctx)?;
        let connection = handle.as_raw_handle().as_ptr() as usize;
        let Inserted {
            mut villages,
            mut claim_villages,
            persons,
            households_to_look_up,
            persons_to_look_up,
            network,
            ..
        } = inserted;
        crate::raw::blocking(|| -> Result<(), RawError> {
            let keys: Vec<Val<'_>> = households_to_look_up.iter().map(|h| Val::text(h)).collect();
            let sql = village_lookup("households").expect("households have villages");
            villages.extend(crate::raw::first_int_each(&mut handle, sql, &keys)?.into_iter().flatten());
            let keys: Vec<Val<'_>> = persons_to_look_up.iter().map(|&p| Val::int(p)).collect();
            let sql = village_lookup("persons").expect("persons have villages");
            claim_villages.extend(crate::raw::first_int_each(&mut handle, sql, &keys)?.into_iter().flatten());
            let rows =
                |keys: &BTreeSet<i64>| -> Vec<[Val<'static>; 1]> { keys.iter().map(|&k| [Val::int(k)]).collect() };
            for (table, key, keys) in [
                ("dirty_villages", "village_code", rows(&villages)),
                ("indicator_dirty", "village_code", rows(&villages)),
                ("dirty_villages", "village_code", rows(&claim_villages)),
                ("indicator_dirty_persons", "person_id", rows(&persons)),
            ] {
                let keys: Vec<&[Val<'_>]> = keys.iter().map(|k| k.as_slice()).collect();
                crate::raw::execute_rows(&mut handle, |n| mark_sql(table, key, n), &keys, KEYS_A_STATEMENT)?;
            }
            if network {
                let sql = "UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL";
                crate::raw::query_each(&mut handle, sql, &[], |_| Ok(()))?;
            }
            Ok(())
        })
        .map_err(|e| e.into_store(ctx.to_string()))?;
        guard::marked(connection);
        Ok(())
    }
}

/// Keys a marking statement (SQLite).
const KEYS_A_STATEMENT: usize = 256;

/// Deletes the marks `marks` (`(key, version)`) of `table` (keyed by `key`) at
/// the versions read, inside the refresher's transaction: a key marked again
/// meanwhile keeps its mark. `table` and `key` are the store's own names.
pub(crate) async fn clear_marks<DB: ClearMarks>(
    tx: &mut sqlx::Transaction<'_, DB>,
    table: &'static str,
    key: &'static str,
    marks: &[(i64, i64)],
    ctx: &str,
) -> Result<(), StoreError> {
    if marks.is_empty() {
        return Ok(());
    }
    DB::clear_marks(&mut **tx, table, key, marks, ctx).await
}

/// How each engine clears marks at the versions read.
pub(crate) trait ClearMarks: sqlx::Database {
    fn clear_marks(
        conn: &mut Self::Connection,
        table: &'static str,
        key: &'static str,
        marks: &[(i64, i64)],
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// PostgreSQL: one statement joining the table to the marks as two arrays. (A
/// chain of `(key = $1 AND version = $2) OR ...` is matched term by term against
/// every row: 20,000 marks took two minutes there.)
impl ClearMarks for sqlx::Postgres {
    async fn clear_marks(
        conn: &mut Self::Connection,
        table: &'static str,
        key: &'static str,
        marks: &[(i64, i64)],
        ctx: &str,
    ) -> Result<(), StoreError> {
        let (keys, versions): (Vec<i64>, Vec<i64>) = marks.iter().copied().unzip();
        let sql = format!(
            "DELETE FROM {table} t USING unnest($1::BIGINT[], $2::BIGINT[]) AS m (k, v)
             WHERE t.{key} = m.k AND t.version = m.v"
        );
        sqlx::query(&sql).bind(keys).bind(versions).execute(conn).await.ctx(ctx)?;
        Ok(())
    }
}

/// SQLite: `(key = ?1 AND version = ?2) OR ...`, a few hundred marks a
/// statement; each term is one look-up of the key's index.
impl ClearMarks for sqlx::Sqlite {
    async fn clear_marks(
        conn: &mut Self::Connection,
        table: &'static str,
        key: &'static str,
        marks: &[(i64, i64)],
        ctx: &str,
    ) -> Result<(), StoreError> {
        // Two values a mark: 400 a statement, as the other batches of SQLite.
        for part in marks.chunks(200) {
            let pairs: Vec<String> =
                (0..part.len()).map(|i| format!("({key} = ${} AND version = ${})", 2 * i + 1, 2 * i + 2)).collect();
            let del = format!("DELETE FROM {table} WHERE {}", pairs.join(" OR "));
            let mut q = sqlx::query(&del);
            for (k, version) in part {
                q = q.bind(*k).bind(*version);
            }
            q.execute(&mut *conn).await.ctx(ctx)?;
        }
        Ok(())
    }
}

/// SQLite's guard of the unit of work: on each connection an update hook notes
/// an insert into [`UNIT_OF_WORK_TABLES`], [`commit`] clears the note once it has
/// marked, and a commit hook logs the commit of a transaction whose note is
/// still set and, in debug builds (the tests), turns it into a rollback. So a
/// write path that inserts into those tables without the unit of work fails its
/// tests, instead of leaving the derived data stale. The hooks cost a call per
/// row written.
pub(crate) mod guard {
    use super::*;
    use sqlx::sqlite::{SqliteConnection, SqliteOperation};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A connection's note: the table of the first insert the unit of work has
    /// not marked yet, in the transaction under way.
    #[derive(Default)]
    struct Note {
        /// Whether `table` holds one: read at every row written, so cheap.
        pending: AtomicBool,
        table: Mutex<Option<&'static str>>,
    }

    impl Note {
        fn set(&self, table: &'static str) {
            *self.table.lock().unwrap_or_else(|e| e.into_inner()) = Some(table);
            self.pending.store(true, Ordering::Release);
        }

        fn take(&self) -> Option<&'static str> {
            if !self.pending.swap(false, Ordering::AcqRel) {
                return None;
            }
            self.table.lock().unwrap_or_else(|e| e.into_inner()).take()
        }
    }

    /// The notes of the connections, by their SQLite handle.
    static NOTES: Mutex<Vec<(usize, Weak<Note>)>> = Mutex::new(Vec::new());

    /// Installs the hooks on a new connection, in debug builds (the tests): a
    /// release build pays no call per row (the hooks made an import of persons
    /// 15% slower) and relies on the tests having proved every write path.
    pub(crate) async fn install(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        if !cfg!(debug_assertions) {
            return Ok(());
        }
        let note = Arc::new(Note::default());
        let mut handle = conn.lock_handle().await?;
        let connection = handle.as_raw_handle().as_ptr() as usize;
        {
            let mut notes = NOTES.lock().unwrap_or_else(|e| e.into_inner());
            notes.retain(|(c, n)| *c != connection && n.strong_count() > 0);
            notes.push((connection, Arc::downgrade(&note)));
        }
        let n = note.clone();
        handle.set_update_hook(move |r| {
            if n.pending.load(Ordering::Acquire) || !matches!(r.operation, SqliteOperation::Insert) {
                return;
            }
            if let Some(t) = UNIT_OF_WORK_TABLES.iter().find(|t| **t == r.table) {
                n.set(t);
            }
        });
        let n = note.clone();
        handle.set_commit_hook(move || match n.take() {
            None => true,
            Some(table) => {
                tracing::error!(
                    table,
                    "a transaction inserted into {table} without the store's unit of work (fresh::commit): \
                     the figures and facts derived from it do not know the rows"
                );
                false // the commit becomes a rollback
            }
        });
        handle.set_rollback_hook(move || {
            note.take();
        });
        Ok(())
    }

    /// The unit of work marked what the transaction on `connection` inserted.
    pub(crate) fn marked(connection: usize) {
        let notes = NOTES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(note) = notes.iter().find(|(c, _)| *c == connection).and_then(|(_, n)| n.upgrade()) {
            note.take();
        }
    }
}

/// Migration 5 on SQLite: row triggers that mark what each write changes (see
/// the module's table). Inserts into [`UNIT_OF_WORK_TABLES`] are marked by
/// [`commit`]. A released migration: never edited; a change is a new one.
pub(crate) const V5_SQLITE: &str = r#"
CREATE TRIGGER fresh_households_update AFTER UPDATE ON households BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT v FROM (SELECT OLD.village_code AS v UNION SELECT NEW.village_code)
        WHERE OLD.village_code IS NOT NEW.village_code
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty (village_code)
        SELECT v FROM (SELECT OLD.village_code AS v UNION SELECT NEW.village_code) WHERE true
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT person_id FROM persons WHERE household_id IN (OLD.household_id, NEW.household_id)
        AND (OLD.village_code IS NOT NEW.village_code OR OLD.household_id IS NOT NEW.household_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_households_delete AFTER DELETE ON households BEGIN
    INSERT INTO dirty_villages (village_code) VALUES (OLD.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty (village_code) VALUES (OLD.village_code)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;

CREATE TRIGGER fresh_persons_update AFTER UPDATE ON persons BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT DISTINCT village_code FROM households WHERE household_id IN (OLD.household_id, NEW.household_id)
        AND (OLD.household_id IS NOT NEW.household_id OR OLD.status IS NOT NEW.status)
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty (village_code)
        SELECT DISTINCT village_code FROM households WHERE household_id IN (OLD.household_id, NEW.household_id)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT p FROM (SELECT OLD.person_id AS p UNION SELECT NEW.person_id) WHERE true
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_persons_delete AFTER DELETE ON persons BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT village_code FROM households WHERE household_id = OLD.household_id
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty (village_code)
        SELECT village_code FROM households WHERE household_id = OLD.household_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
    INSERT INTO indicator_dirty_persons (person_id) VALUES (OLD.person_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;

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
        JOIN households h ON h.household_id = p.household_id WHERE c.claim_id IN (OLD.claim_id, NEW.claim_id)
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT p FROM (SELECT OLD.person_id AS p UNION SELECT NEW.person_id) WHERE true
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_settlements_delete AFTER DELETE ON settlements BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT h.village_code FROM claims c JOIN persons p ON p.person_id = c.person_id
        JOIN households h ON h.household_id = p.household_id WHERE c.claim_id = OLD.claim_id
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty_persons (person_id) VALUES (OLD.person_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;

CREATE TRIGGER fresh_settlement_payments_update AFTER UPDATE ON settlement_payments BEGIN
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT DISTINCT person_id FROM settlements WHERE claim_id IN (OLD.claim_id, NEW.claim_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_settlement_payments_delete AFTER DELETE ON settlement_payments BEGIN
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT person_id FROM settlements WHERE claim_id = OLD.claim_id
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;

CREATE TRIGGER fresh_alerts_insert AFTER INSERT ON alerts BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT NEW.village_code WHERE NEW.state IN ('open', 'verifying', 'assisting')
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty (village_code)
        SELECT village_code FROM households WHERE household_id = NEW.household_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_alerts_update AFTER UPDATE ON alerts
WHEN OLD.state IS NOT NEW.state OR OLD.village_code IS NOT NEW.village_code OR OLD.household_id IS NOT NEW.household_id
    OR OLD.rule IS NOT NEW.rule OR OLD.year IS NOT NEW.year OR OLD.created_at IS NOT NEW.created_at OR OLD.id IS NOT NEW.id
BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT v FROM (SELECT OLD.village_code AS v UNION SELECT NEW.village_code)
        WHERE OLD.state IS NOT NEW.state OR OLD.village_code IS NOT NEW.village_code
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty (village_code)
        SELECT DISTINCT village_code FROM households WHERE household_id IN (OLD.household_id, NEW.household_id)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_alerts_delete AFTER DELETE ON alerts BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT OLD.village_code WHERE OLD.state IN ('open', 'verifying', 'assisting')
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty (village_code)
        SELECT village_code FROM households WHERE household_id = OLD.household_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;

CREATE TRIGGER fresh_alert_events_insert AFTER INSERT ON alert_events WHEN NEW.to_state = 'resolved' BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT h.village_code FROM alerts a JOIN households h ON h.household_id = a.household_id
        WHERE a.id = NEW.alert_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_alert_events_update AFTER UPDATE ON alert_events
WHEN OLD.to_state = 'resolved' OR NEW.to_state = 'resolved' BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT DISTINCT h.village_code FROM alerts a JOIN households h ON h.household_id = a.household_id
        WHERE a.id IN (OLD.alert_id, NEW.alert_id)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_alert_events_delete AFTER DELETE ON alert_events WHEN OLD.to_state = 'resolved' BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT h.village_code FROM alerts a JOIN households h ON h.household_id = a.household_id
        WHERE a.id = OLD.alert_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;

CREATE TRIGGER fresh_assistance_measures_insert AFTER INSERT ON assistance_measures BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT h.village_code FROM alerts a JOIN households h ON h.household_id = a.household_id
        WHERE a.id = NEW.alert_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_assistance_measures_update AFTER UPDATE ON assistance_measures BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT DISTINCT h.village_code FROM alerts a JOIN households h ON h.household_id = a.household_id
        WHERE a.id IN (OLD.alert_id, NEW.alert_id)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_assistance_measures_delete AFTER DELETE ON assistance_measures BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT h.village_code FROM alerts a JOIN households h ON h.household_id = a.household_id
        WHERE a.id = OLD.alert_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;

CREATE TRIGGER fresh_patient_ledger_insert AFTER INSERT ON patient_ledger
WHEN NEW.contract_doctor <> '' AND NEW.contract_signed IS NOT NULL BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
        WHERE p.person_id = NEW.person_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_patient_ledger_update AFTER UPDATE ON patient_ledger
WHEN ((OLD.contract_doctor <> '' AND OLD.contract_signed IS NOT NULL) OR (NEW.contract_doctor <> '' AND NEW.contract_signed IS NOT NULL))
    AND (OLD.contract_doctor IS NOT NEW.contract_doctor OR OLD.contract_signed IS NOT NEW.contract_signed
         OR OLD.person_id IS NOT NEW.person_id OR OLD.year IS NOT NEW.year)
BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT DISTINCT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
        WHERE p.person_id IN (OLD.person_id, NEW.person_id)
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;
CREATE TRIGGER fresh_patient_ledger_delete AFTER DELETE ON patient_ledger
WHEN OLD.contract_doctor <> '' AND OLD.contract_signed IS NOT NULL BEGIN
    INSERT INTO indicator_dirty (village_code)
        SELECT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
        WHERE p.person_id = OLD.person_id
        ON CONFLICT (village_code) DO UPDATE SET version = indicator_dirty.version + 1;
END;

CREATE TRIGGER fresh_regions_update AFTER UPDATE ON regions BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_regions_delete AFTER DELETE ON regions BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_facilities_update AFTER UPDATE ON facilities BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_facilities_delete AFTER DELETE ON facilities BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_practitioners_update AFTER UPDATE ON practitioners BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_practitioners_delete AFTER DELETE ON practitioners BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
"#;

/// Migration 5 on PostgreSQL: statement-level triggers with transition tables
/// (`new_rows`, `old_rows`) for every insert, update and delete of the tables
/// of the module's table, each marking with one statement per stale table.
/// A released migration: never edited; a change is a new one.
pub(crate) const V5_POSTGRES: &str = r#"
CREATE FUNCTION fresh_villages(figures BOOLEAN, indicators BOOLEAN, codes BIGINT[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(codes) = 0 THEN
        RETURN;
    END IF;
    IF figures THEN
        INSERT INTO dirty_villages AS d (village_code, version)
            SELECT DISTINCT c, txid_current() FROM unnest(codes) c WHERE c IS NOT NULL ORDER BY 1
            ON CONFLICT (village_code) DO UPDATE SET version = excluded.version WHERE d.version <> excluded.version;
    END IF;
    IF indicators THEN
        INSERT INTO indicator_dirty AS d (village_code, version)
            SELECT DISTINCT c, txid_current() FROM unnest(codes) c WHERE c IS NOT NULL ORDER BY 1
            ON CONFLICT (village_code) DO UPDATE SET version = excluded.version WHERE d.version <> excluded.version;
    END IF;
END $$;

CREATE FUNCTION fresh_persons(ids BIGINT[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO indicator_dirty_persons AS d (person_id, version)
        SELECT DISTINCT i, txid_current() FROM unnest(ids) i WHERE i IS NOT NULL ORDER BY 1
        ON CONFLICT (person_id) DO UPDATE SET version = excluded.version WHERE d.version <> excluded.version;
END $$;

CREATE FUNCTION fresh_households() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fresh_villages(TRUE, TRUE, ARRAY(SELECT village_code FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fresh_villages(TRUE, TRUE, ARRAY(SELECT village_code FROM old_rows));
        PERFORM fresh_persons(ARRAY(
            SELECT p.person_id FROM old_rows o
            CROSS JOIN LATERAL (SELECT person_id FROM persons WHERE household_id = o.household_id) p));
    ELSE
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT village_code FROM old_rows UNION SELECT village_code FROM new_rows));
        PERFORM fresh_villages(TRUE, FALSE, ARRAY(
            SELECT x.v FROM old_rows o FULL JOIN new_rows n ON n.household_id = o.household_id
            CROSS JOIN LATERAL (VALUES (o.village_code), (n.village_code)) x (v)
            WHERE o.village_code IS DISTINCT FROM n.village_code));
        PERFORM fresh_persons(ARRAY(
            SELECT p.person_id FROM (
                SELECT x.h FROM old_rows o FULL JOIN new_rows n ON n.household_id = o.household_id
                CROSS JOIN LATERAL (VALUES (o.household_id), (n.household_id)) x (h)
                WHERE o.village_code IS DISTINCT FROM n.village_code) m
            CROSS JOIN LATERAL (SELECT person_id FROM persons WHERE household_id = m.h) p));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_persons_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fresh_villages(TRUE, TRUE, ARRAY(
            SELECT (SELECT village_code FROM households WHERE household_id = x.h)
            FROM (SELECT DISTINCT household_id FROM new_rows) x (h)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fresh_villages(TRUE, TRUE, ARRAY(
            SELECT (SELECT village_code FROM households WHERE household_id = x.h)
            FROM (SELECT DISTINCT household_id FROM old_rows) x (h)));
        PERFORM fresh_persons(ARRAY(SELECT person_id FROM old_rows));
    ELSE
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT (SELECT village_code FROM households WHERE household_id = x.h)
            FROM (SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows) x (h)));
        PERFORM fresh_villages(TRUE, FALSE, ARRAY(
            SELECT (SELECT village_code FROM households WHERE household_id = m.h) FROM (
                SELECT DISTINCT x.h FROM old_rows o FULL JOIN new_rows n ON n.person_id = o.person_id
                CROSS JOIN LATERAL (VALUES (o.household_id), (n.household_id)) x (h)
                WHERE (o.household_id, o.status) IS DISTINCT FROM (n.household_id, n.status)) m));
        PERFORM fresh_persons(ARRAY(SELECT person_id FROM old_rows UNION SELECT person_id FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_village_of_persons(ids BIGINT[]) RETURNS BIGINT[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(
        SELECT (SELECT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
                WHERE p.person_id = i)
        FROM unnest(ids) i)
$$;

CREATE FUNCTION fresh_claims() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT person_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT DISTINCT person_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT person_id FROM old_rows UNION SELECT person_id FROM new_rows);
    END IF;
    PERFORM fresh_villages(TRUE, FALSE, fresh_village_of_persons(ids));
    PERFORM fresh_persons(ids);
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_settlements() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    claims TEXT[];
    ids BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A new settlement's person is its claim's.
        ids := ARRAY(SELECT DISTINCT person_id FROM new_rows);
        PERFORM fresh_villages(TRUE, FALSE, fresh_village_of_persons(ids));
        PERFORM fresh_persons(ids);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        claims := ARRAY(SELECT claim_id FROM old_rows);
        ids := ARRAY(SELECT DISTINCT person_id FROM old_rows);
    ELSE
        claims := ARRAY(SELECT claim_id FROM old_rows UNION SELECT claim_id FROM new_rows);
        ids := ARRAY(SELECT person_id FROM old_rows UNION SELECT person_id FROM new_rows);
    END IF;
    PERFORM fresh_villages(TRUE, FALSE, ARRAY(
        SELECT (SELECT h.village_code FROM claims c JOIN persons p ON p.person_id = c.person_id
                JOIN households h ON h.household_id = p.household_id WHERE c.claim_id = x)
        FROM unnest(claims) x));
    PERFORM fresh_persons(ids);
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_settlement_payments() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    claims TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        claims := ARRAY(SELECT DISTINCT claim_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        claims := ARRAY(SELECT DISTINCT claim_id FROM old_rows);
    ELSE
        claims := ARRAY(SELECT claim_id FROM old_rows UNION SELECT claim_id FROM new_rows);
    END IF;
    PERFORM fresh_persons(ARRAY(
        SELECT (SELECT person_id FROM settlements WHERE claim_id = x) FROM unnest(claims) x));
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_alerts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM fresh_villages(TRUE, FALSE, ARRAY(
            SELECT village_code FROM new_rows WHERE state IN ('open', 'verifying', 'assisting')));
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT (SELECT village_code FROM households WHERE household_id = x.h)
            FROM (SELECT DISTINCT household_id FROM new_rows) x (h)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM fresh_villages(TRUE, FALSE, ARRAY(
            SELECT village_code FROM old_rows WHERE state IN ('open', 'verifying', 'assisting')));
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT (SELECT village_code FROM households WHERE household_id = x.h)
            FROM (SELECT DISTINCT household_id FROM old_rows) x (h)));
    ELSE
        PERFORM fresh_villages(TRUE, FALSE, ARRAY(
            SELECT x.v FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES (o.village_code), (n.village_code)) x (v)
            WHERE (o.state, o.village_code) IS DISTINCT FROM (n.state, n.village_code)));
        PERFORM fresh_villages(FALSE, TRUE, ARRAY(
            SELECT (SELECT village_code FROM households WHERE household_id = m.h) FROM (
                SELECT DISTINCT x.h FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
                CROSS JOIN LATERAL (VALUES (o.household_id), (n.household_id)) x (h)
                WHERE (o.state, o.village_code, o.household_id, o.rule, o.year, o.created_at)
                    IS DISTINCT FROM (n.state, n.village_code, n.household_id, n.rule, n.year, n.created_at)) m));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_village_of_alerts(ids BIGINT[]) RETURNS BIGINT[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(
        SELECT (SELECT h.village_code FROM alerts a JOIN households h ON h.household_id = a.household_id
                WHERE a.id = i)
        FROM unnest(ids) i)
$$;

CREATE FUNCTION fresh_alert_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    alerts BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        alerts := ARRAY(SELECT DISTINCT alert_id FROM new_rows WHERE to_state = 'resolved');
    ELSIF TG_OP = 'DELETE' THEN
        alerts := ARRAY(SELECT DISTINCT alert_id FROM old_rows WHERE to_state = 'resolved');
    ELSE
        alerts := ARRAY(SELECT alert_id FROM old_rows WHERE to_state = 'resolved'
            UNION SELECT alert_id FROM new_rows WHERE to_state = 'resolved');
    END IF;
    PERFORM fresh_villages(FALSE, TRUE, fresh_village_of_alerts(alerts));
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_assistance_measures() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    alerts BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        alerts := ARRAY(SELECT DISTINCT alert_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        alerts := ARRAY(SELECT DISTINCT alert_id FROM old_rows);
    ELSE
        alerts := ARRAY(SELECT alert_id FROM old_rows UNION SELECT alert_id FROM new_rows);
    END IF;
    PERFORM fresh_villages(FALSE, TRUE, fresh_village_of_alerts(alerts));
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_patient_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT person_id FROM new_rows WHERE contract_doctor <> '' AND contract_signed IS NOT NULL);
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT DISTINCT person_id FROM old_rows WHERE contract_doctor <> '' AND contract_signed IS NOT NULL);
    ELSE
        ids := ARRAY(
            SELECT DISTINCT x.p FROM old_rows o FULL JOIN new_rows n ON n.year = o.year AND n.person_id = o.person_id
            CROSS JOIN LATERAL (VALUES (o.person_id), (n.person_id)) x (p)
            WHERE ((o.contract_doctor <> '' AND o.contract_signed IS NOT NULL)
                   OR (n.contract_doctor <> '' AND n.contract_signed IS NOT NULL))
            AND (o.contract_doctor, o.contract_signed) IS DISTINCT FROM (n.contract_doctor, n.contract_signed));
    END IF;
    PERFORM fresh_villages(FALSE, TRUE, fresh_village_of_persons(ids));
    RETURN NULL;
END $$;

CREATE FUNCTION fresh_network() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed BOOLEAN;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := EXISTS (SELECT 1 FROM old_rows);
    ELSE
        changed := EXISTS (SELECT 1 FROM new_rows);
    END IF;
    IF changed THEN
        UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER fresh_households_insert AFTER INSERT ON households
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_households();
CREATE TRIGGER fresh_households_update AFTER UPDATE ON households
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_households();
CREATE TRIGGER fresh_households_delete AFTER DELETE ON households
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_households();

CREATE TRIGGER fresh_persons_insert AFTER INSERT ON persons
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_persons_written();
CREATE TRIGGER fresh_persons_update AFTER UPDATE ON persons
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_persons_written();
CREATE TRIGGER fresh_persons_delete AFTER DELETE ON persons
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_persons_written();

CREATE TRIGGER fresh_claims_insert AFTER INSERT ON claims
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_claims();
CREATE TRIGGER fresh_claims_update AFTER UPDATE ON claims
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_claims();
CREATE TRIGGER fresh_claims_delete AFTER DELETE ON claims
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_claims();

CREATE TRIGGER fresh_settlements_insert AFTER INSERT ON settlements
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_settlements();
CREATE TRIGGER fresh_settlements_update AFTER UPDATE ON settlements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_settlements();
CREATE TRIGGER fresh_settlements_delete AFTER DELETE ON settlements
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_settlements();

CREATE TRIGGER fresh_settlement_payments_insert AFTER INSERT ON settlement_payments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_settlement_payments();
CREATE TRIGGER fresh_settlement_payments_update AFTER UPDATE ON settlement_payments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_settlement_payments();
CREATE TRIGGER fresh_settlement_payments_delete AFTER DELETE ON settlement_payments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_settlement_payments();

CREATE TRIGGER fresh_alerts_insert AFTER INSERT ON alerts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_alerts();
CREATE TRIGGER fresh_alerts_update AFTER UPDATE ON alerts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_alerts();
CREATE TRIGGER fresh_alerts_delete AFTER DELETE ON alerts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_alerts();

CREATE TRIGGER fresh_alert_events_insert AFTER INSERT ON alert_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_alert_events();
CREATE TRIGGER fresh_alert_events_update AFTER UPDATE ON alert_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_alert_events();
CREATE TRIGGER fresh_alert_events_delete AFTER DELETE ON alert_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_alert_events();

CREATE TRIGGER fresh_assistance_measures_insert AFTER INSERT ON assistance_measures
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_assistance_measures();
CREATE TRIGGER fresh_assistance_measures_update AFTER UPDATE ON assistance_measures
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_assistance_measures();
CREATE TRIGGER fresh_assistance_measures_delete AFTER DELETE ON assistance_measures
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_assistance_measures();

CREATE TRIGGER fresh_patient_ledger_insert AFTER INSERT ON patient_ledger
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_patient_ledger();
CREATE TRIGGER fresh_patient_ledger_update AFTER UPDATE ON patient_ledger
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_patient_ledger();
CREATE TRIGGER fresh_patient_ledger_delete AFTER DELETE ON patient_ledger
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_patient_ledger();

CREATE TRIGGER fresh_regions_insert AFTER INSERT ON regions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_regions_update AFTER UPDATE ON regions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_regions_delete AFTER DELETE ON regions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_facilities_insert AFTER INSERT ON facilities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_facilities_update AFTER UPDATE ON facilities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_facilities_delete AFTER DELETE ON facilities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_practitioners_insert AFTER INSERT ON practitioners
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_practitioners_update AFTER UPDATE ON practitioners
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_practitioners_delete AFTER DELETE ON practitioners
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
"#;

/// Migration 29 on SQLite: a write may mark the claims it updates itself.
/// The import of a day's claim items sets the eligible cost of thousands of
/// claims, and the row trigger's two marks a claim cost more than the update:
/// the write holds the row of `claims_marked_by_writer` while it updates them,
/// and marks the persons and villages of exactly the claims it changed through
/// the unit of work ([`Inserted::claims_updated`], [`commit`]), set-based. The row is
/// written and deleted inside the write's transaction (`items.rs`,
/// `ItemsWrite::set_eligible`), so no other transaction ever sees it, and a
/// write that fails rolls it back with everything else. The trigger is
/// migration 14's, with the condition added.
pub(crate) const V29_SQLITE: &str = r#"
CREATE TABLE claims_marked_by_writer (marked BIGINT NOT NULL PRIMARY KEY CHECK (marked = 1));
DROP TRIGGER fresh_claims_update;
CREATE TRIGGER fresh_claims_update AFTER UPDATE ON claims
WHEN NOT EXISTS (SELECT 1 FROM claims_marked_by_writer)
BEGIN
    INSERT INTO dirty_villages (village_code)
        SELECT DISTINCT h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
        WHERE p.person_id IN (OLD.person_id, NEW.person_id)
        ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1;
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT p FROM (SELECT OLD.person_id AS p UNION SELECT NEW.person_id) WHERE true
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
"#;

/// Migration 29 on PostgreSQL: its statement triggers mark an update of many
/// claims once, so the marks stay as they are. What changes is how the server
/// keeps a bill's packed lines (`claim_bills.lines`, about 3 kB a bill of 50
/// lines, compressed because it is over 2 kB): with lz4 rather than pglz, whose
/// compression was a quarter of the server's work in the import of a day's
/// items. A server built without lz4 (or older than 14) keeps pglz: the same
/// texts read back either way.
pub(crate) const V29_POSTGRES: &str = r#"
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        BEGIN
            EXECUTE 'ALTER TABLE claim_bills ALTER COLUMN lines SET COMPRESSION lz4';
        EXCEPTION WHEN feature_not_supported THEN
            NULL;
        END;
    END IF;
END $$;
"#;

/// Migration 15: a claim counts as treated in the patient's county by the region
/// of its facility where the facility is registered, so the kept claim facts of
/// the persons treated at a facility go stale when the facility comes, goes or
/// moves. Every person's kept claim facts are recomputed once, under the new
/// rule.
pub(crate) const V15: &str = "CREATE INDEX claims_facility ON claims (facility_id)";

pub(crate) const V15_SQLITE: &str = "
CREATE TRIGGER fresh_facility_claims_insert AFTER INSERT ON facilities BEGIN
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT DISTINCT person_id FROM claims WHERE facility_id = NEW.facility_id
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_facility_claims_update AFTER UPDATE OF facility_id, region_code ON facilities BEGIN
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT DISTINCT person_id FROM claims WHERE facility_id IN (OLD.facility_id, NEW.facility_id)
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
CREATE TRIGGER fresh_facility_claims_delete AFTER DELETE ON facilities BEGIN
    INSERT INTO indicator_dirty_persons (person_id)
        SELECT DISTINCT person_id FROM claims WHERE facility_id = OLD.facility_id
        ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
END;
INSERT INTO indicator_dirty_persons (person_id) SELECT DISTINCT person_id FROM claims WHERE true
    ON CONFLICT (person_id) DO UPDATE SET version = indicator_dirty_persons.version + 1;
";

pub(crate) const V15_POSTGRES: &str = "
CREATE FUNCTION fresh_facility_claims() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        changed := ARRAY(SELECT facility_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        changed := ARRAY(SELECT facility_id FROM old_rows);
    ELSE
        changed := ARRAY(
            SELECT o.facility_id FROM old_rows o LEFT JOIN new_rows n ON n.facility_id = o.facility_id
            WHERE n.facility_id IS NULL OR n.region_code <> o.region_code
            UNION SELECT n.facility_id FROM new_rows n LEFT JOIN old_rows o ON o.facility_id = n.facility_id
            WHERE o.facility_id IS NULL);
    END IF;
    IF cardinality(changed) > 0 THEN
        PERFORM fresh_persons(ARRAY(SELECT DISTINCT person_id FROM claims WHERE facility_id = ANY (changed)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER fresh_facility_claims_insert AFTER INSERT ON facilities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_facility_claims();
CREATE TRIGGER fresh_facility_claims_update AFTER UPDATE ON facilities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_facility_claims();
CREATE TRIGGER fresh_facility_claims_delete AFTER DELETE ON facilities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_facility_claims();
SELECT fresh_persons(ARRAY(SELECT DISTINCT person_id FROM claims));
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Pool, Scope, Store};

    /// A transaction that inserts into a table of the unit of work without it
    /// is refused at its commit (debug builds); through [`commit`] it stands.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_insert_without_the_unit_of_work_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db").display().to_string()).await.unwrap();
        store.migrate().await.unwrap();
        let Pool::Sqlite(p) = &store.pool else { unreachable!() };
        let insert = "INSERT INTO regions (code, name, level) VALUES (340000000000, 'P', 'province')";
        {
            // A connection of its own: sqlx takes a connection whose commit was
            // refused for still inside its transaction.
            let mut conn = p.acquire().await.unwrap();
            conn.close_on_drop();
            let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
            sqlx::query(insert).execute(&mut *tx).await.unwrap();
            assert!(tx.commit().await.is_err(), "committed without the unit of work");
        }
        assert_eq!(store.count::<domain::Region>(&Scope::all()).await.unwrap(), 0);
        store.keep_indicator_year(2024).await.unwrap();
        store
            .write_indicator_coverage(2024, chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(), None, &[])
            .await
            .unwrap();
        assert!(store.indicator_years().await.unwrap()[0].coverage_as_of.is_some());
        let mut tx = p.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query(insert).execute(&mut *tx).await.unwrap();
        let mut inserted = Inserted::default();
        inserted.rows("regions", &["code"], &[&vec![Val::int(340000000000)]]);
        commit(tx, inserted, "a test").await.unwrap();
        assert_eq!(store.count::<domain::Region>(&Scope::all()).await.unwrap(), 1);
        let years = store.indicator_years().await.unwrap();
        assert_eq!(years[0].coverage_as_of, None);
    }
}
