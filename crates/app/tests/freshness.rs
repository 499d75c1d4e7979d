//! The derived data follow every kind of write, on SQLite and on PostgreSQL.
//!
//! The store keeps two kinds of derived data: the overview's figures by village
//! (the overview, the map and the monthly trend) and the programme indicators'
//! facts (the report). Both are refreshed from the marks the writes leave
//! (`store/src/fresh.rs`: triggers, and on SQLite the unit of work of bulk
//! inserts). This test performs every kind of write the store offers, one after
//! the other on one small store, and after each checks that
//!
//! - the figures read after their refresh equal the figures recomputed from the
//!   base tables (every cached figure dropped and every village marked), and
//! - the indicator report from the kept facts, refreshed, equals the report
//!   computed from the whole store at once.
//!
//! It also reads the store's sources: every `pub async fn` of the store must be
//! named below, as a write this test performs, a write of the derived data
//! themselves, or a read. A new write method fails this test until it is
//! classified, and a write until it is performed here.

mod common;

use chrono::{NaiveDate, Utc};
use common::*;
use domain::*;
use indicators::{Definitions, PeriodKind};
use monitor::{AlertState, Figure, Finding};
use std::collections::BTreeSet;
use store::{AlertQuery, ImportFeed, NewAdmission, NewAdmissionPayment, NewMeasure, Page, Scope, Store};

both_backends!(every_write_leaves_the_derived_data_fresh);

/// The store's writes of base data: each is performed below.
const WRITES: &[&str] = &[
    "import",
    "import_stream",
    "import_regions",
    "import_households",
    "import_persons",
    "import_facilities",
    "import_practitioners",
    "import_claims",
    "import_thresholds",
    "put_policy",
    "settle_realtime",
    "settle_realtime_batch",
    "void_claim",
    "settle_stored",
    "settle_stored_in_chunks",
    "load_settlements",
    "apply_findings",
    "transition_alert",
    "add_assistance",
    "put_ledger",
    "set_contract",
    "set_case_deadline",
    "open_case",
    "join_alerts_to_cases",
    "move_case",
    "record_visits",
    "sign_contracts",
    "set_enrolments",
    "put_catalogue",
    "put_claim_items",
    "put_claim_lines",
    "create_household",
    "change_household",
    "create_person",
    "change_person",
    "add_catalogue_entry",
    "create_user",
    "set_login_state",
    "set_password",
    "set_user_active",
    "set_user_facility",
    "create_session",
    "delete_session",
    "create_api_token",
    "api_token_user",
    "api_token",
    "revoke_api_token",
    "replace_password",
    "end_sessions_of",
    "audit",
    "audit_many",
    "record_import_run",
    "server_key",
    "set_amount_limit",
    "put_target",
    "admit",
    "record_postings",
    "record_qualifications",
    "save_plan",
    "replace_plan_lines",
    "move_plan",
    "record_plan_visits",
    "record_pairings",
    "record_telemedicine",
    "keep_network_alerts",
    "move_network_case",
    "link_admission_claim",
    "record_admission_payment",
    "migrate",
    "migrate_to",
    "schema_version",
];

/// The writes of the derived data themselves (their refreshes), performed by
/// every check below (`Store::overview` and the like, `app::kept::refresh`).
const DERIVED: &[&str] = &[
    "refresh_figures",
    "refresh_figures_turn",
    "keep_indicator_year",
    "write_indicator_facts",
    "write_person_facts",
    "write_indicator_coverage",
];

/// The reads.
const READS: &[&str] = &[
    "open",
    "close",
    "user_by_name",
    "user_by_id",
    "list_users",
    "session",
    "api_tokens_of",
    "api_token_by_id",
    "list_api_tokens",
    "audit_log",
    "import_runs",
    "alerts",
    "count_alerts",
    "alert",
    "monitor_inputs",
    "indicator_years",
    "indicator_dirty",
    "indicator_dirty_persons",
    "latest_claim_year",
    "counties_with_households",
    "person_claim_inputs",
    "indicator_facts",
    "ledger",
    "contracts",
    "existing_region_codes",
    "existing_households",
    "existing_persons",
    "existing_facilities",
    "existing_claims",
    "list",
    "export",
    "count",
    "get",
    "alert_dates",
    "settlement_payments",
    "region_names",
    "facility_regions",
    "report_inputs",
    "registry_report_inputs",
    "kept_person_facts",
    "households_of_persons",
    "policy_candidates",
    "policies",
    "policy_versions",
    "settlements_of",
    "settlement",
    "claim_facilities",
    "explain_stored",
    "status_history",
    "summary",
    "search_persons",
    "find_household_persons",
    "amount_limits",
    "enrolments_of",
    "enrolled_persons",
    "search_catalogue",
    "catalogue_items",
    "claims_for_items",
    "claim_items",
    "targets",
    "target_versions",
    "household_members",
    "claims_of",
    "village_of",
    "find_persons",
    "person_in_scope",
    "claim_views",
    "person_record",
    "search_households",
    "household_record",
    "overview",
    "region_figures",
    "monthly_trend",
    "network",
    "case_deadlines",
    "cases",
    "case",
    "visits",
    "doctor_contracts",
    "case_measure_totals",
    "catalogue_entries",
    "case_dates",
    "audit_log_in",
    "year_claims",
    "year_settlements",
    "year_accumulators",
    "year_policy_candidates",
    "admission",
    "admissions",
    "open_admissions",
    "facility_settlements",
    "network_history",
    "network_history_at",
    "network_places",
    "kept_network_alerts",
    "network_cases",
    "network_case",
    "practitioner_in_scope",
    "postings_of",
    "qualifications_of",
    "plans",
    "plan",
    "plan_lines",
    "plan_tours",
    "plan_visits",
    "plan_progress",
    "pairings",
    "telemedicine_links",
    "pairing_facts",
];

/// The names of the store's `pub async fn`s, from its sources.
fn store_methods() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/src");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (_, rest) in text.match_indices("pub async fn ").map(|(i, _)| ((), &text[i + 13..])) {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            names.insert(name);
        }
    }
    names
}

#[test]
fn every_method_of_the_store_is_classified() {
    let found = store_methods();
    let known: BTreeSet<String> = WRITES.iter().chain(DERIVED).chain(READS).map(|s| s.to_string()).collect();
    let new: Vec<&String> = found.difference(&known).collect();
    assert!(
        new.is_empty(),
        "the store has methods this test does not know: {new:?}. A write must be performed in \
         every_write_leaves_the_derived_data_fresh and named in WRITES; a read goes in READS"
    );
    let gone: Vec<&String> = known.difference(&found).collect();
    assert!(gone.is_empty(), "methods the store no longer has: {gone:?}");
}

fn today() -> NaiveDate {
    domain::time::china_today()
}

/// The scopes whose figures and reports are compared.
const FIGURE_SCOPES: [&str; 8] =
    ["", "34", "341122", "341123", "341122100", "341122100201", "341122100202", "341123100201"];
const REPORT_SCOPES: [&str; 3] = ["", "341122", "341123"];

/// The overview, the map and the trend of every scope, as the store serves them.
async fn figures(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for s in FIGURE_SCOPES {
        let scope = Scope::new(s).unwrap();
        out.push(format!("{s:?} overview {:?}", store.overview(&scope).await.unwrap()));
        out.push(format!("{s:?} map {:?}", store.region_figures(&scope).await.unwrap()));
        out.push(format!("{s:?} trend {:?}", store.monthly_trend(&scope).await.unwrap()));
    }
    out
}

/// A connection of its own to the store's database.
async fn raw_sql(store: &Store, statements: &[&str]) {
    use sqlx::Connection;
    match store.backend() {
        store::Backend::Sqlite => {
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(store.url());
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            for s in statements {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
            c.close().await.unwrap();
        }
        store::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(store.url()).await.unwrap();
            for s in statements {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
            c.close().await.unwrap();
        }
    }
}

/// Drops the cached figures and marks every village, so that the next read
/// recomputes them all from the base tables.
async fn drop_the_figures(store: &Store) {
    raw_sql(
        store,
        &[
            "DELETE FROM village_figures",
            "DELETE FROM county_figures",
            "INSERT INTO dirty_villages (village_code)
             SELECT v FROM (SELECT code AS v FROM regions WHERE level = 'village'
                            UNION SELECT village_code FROM households UNION SELECT village_code FROM alerts) x
             WHERE true
             ON CONFLICT (village_code) DO UPDATE SET version = dirty_villages.version + 1",
        ],
    )
    .await;
}

fn levels() -> Vec<RegionLevel> {
    vec![RegionLevel::Province, RegionLevel::City, RegionLevel::County, RegionLevel::Township, RegionLevel::Village]
}

/// The report of 2024 by month from the kept facts (refreshed first), as CSV
/// after the count of claims left unsettled.
async fn kept_report(store: &Store, scope: &str) -> String {
    let r = app::kept::report(store, Definitions::shipped(), scope, 2024, levels(), PeriodKind::Month, today(), None)
        .await
        .unwrap();
    format!("{} unsettled\n{}", r.unsettled, String::from_utf8(r.csv().unwrap()).unwrap())
}

/// The same report computed from the store's data at once.
async fn scratch_report(store: &Store, scope: &str) -> String {
    let app = app::App::new(store.clone());
    let s = app::Scope::parse(scope).unwrap();
    let data = app.indicator_data(&s, 2024).await.unwrap();
    // The kept reach is measured over the whole network (a clinic across a
    // county's border serves its villages too).
    let network = app.network(&app::Scope::all()).await.unwrap();
    let r = app::analysis::build_report(
        Definitions::shipped(),
        &data,
        Some(network),
        scope,
        2024,
        levels(),
        PeriodKind::Month,
    )
    .unwrap();
    format!("{} unsettled\n{}", r.unsettled, String::from_utf8(r.csv().unwrap()).unwrap())
}

/// The record of the writes performed, and the check after each.
struct Run<'a> {
    store: &'a Store,
    done: Vec<&'static str>,
}

impl Run<'_> {
    /// After the writes `names` (store methods) described by `what`: the figures
    /// and the kept report equal their computations from scratch.
    async fn fresh(&mut self, names: &[&'static str], what: &str) {
        for n in names {
            assert!(WRITES.contains(n), "{n} is not a write of WRITES");
            self.done.push(n);
        }
        let store = self.store;
        let kept = figures(store).await;
        drop_the_figures(store).await;
        let scratch = figures(store).await;
        for (k, s) in kept.iter().zip(&scratch) {
            assert_eq!(k, s, "after {what}: the figures kept differ from those recomputed");
        }
        let refreshed = app::kept::refresh(store, None, today(), None).await.unwrap();
        assert!(refreshed.built.is_empty(), "after {what}: the kept year was built again: {refreshed:?}");
        for scope in REPORT_SCOPES {
            assert_eq!(
                kept_report(store, scope).await,
                scratch_report(store, scope).await,
                "after {what}: the kept report of scope {scope:?} differs from the report computed at once"
            );
        }
        assert!(store.indicator_dirty().await.unwrap().is_empty(), "after {what}: villages still stale");
        assert!(store.indicator_dirty_persons().await.unwrap().is_empty(), "after {what}: persons still stale");
    }
}

fn person_with(seq: u16, household: &str, status: PovertyStatus, diagnoses: &[&str]) -> Person {
    Person { diagnoses: diagnoses.iter().map(|d| d.to_string()).collect(), ..person(seq, household, status) }
}

fn facility(id: &str, village: &str, kind: FacilityKind) -> Facility {
    Facility {
        opened: None,
        closed: None,
        facility_id: id.into(),
        name: format!("clinic {id}"),
        kind,
        grade: None,
        region_code: code(village),
        lon: Some(117.51),
        lat: Some(31.49),
    }
}

fn doctor(id: &str, facility: &str, active: bool) -> Practitioner {
    Practitioner {
        practitioner_id: id.into(),
        facility_id: facility.into(),
        name: format!("doctor {id}"),
        qualification: Qualification::RuralDoctor,
        gp: false,
        birth_date: d("1970-03-01"),
        active,
    }
}

fn threshold(region: &str) -> Threshold {
    Threshold {
        region: region.into(),
        year: 2024,
        rural_income: Fen::from_yuan(19_575),
        monitoring_line: Fen::from_yuan(7_600),
    }
}

fn finding(rule: &str, hh: &str, village: &str, oop: i64) -> Finding {
    Finding {
        rule: rule.into(),
        household_id: hh.into(),
        village_code: code(village),
        year: 2024,
        value: Figure::Money(Fen::from_yuan(oop)),
        threshold: Some(Figure::Money(Fen::from_yuan(9_000))),
    }
}

async fn alert_id(store: &Store, rule: &str, hh: &str) -> i64 {
    let q = AlertQuery { rule: Some(rule.into()), household: Some(hh.into()), ..Default::default() };
    let found = store.alerts(&Scope::all(), &q, Page::default()).await.unwrap();
    assert_eq!(found.len(), 1, "{rule} {hh}: {found:?}");
    found[0].id
}

async fn every_write_leaves_the_derived_data_fresh(store: &Store) {
    let all = Scope::all();
    let mut run = Run { store, done: Vec::new() };
    // The year is kept from the start: every check below refreshes it in place.
    let built = app::kept::refresh(store, Some(2024), today(), None).await.unwrap();
    assert_eq!(built.built, [2024]);

    // The schema, again: nothing changes.
    assert_eq!(store.migrate().await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(store.migrate_to(store::SCHEMA_VERSION).await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(store.schema_version().await.unwrap(), store::SCHEMA_VERSION);
    run.fresh(&["migrate", "migrate_to", "schema_version"], "migrating again").await;

    // The registry, kind by kind.
    store.import_regions(&regions()).await.unwrap();
    run.fresh(&["import_regions"], "regions imported").await;
    store
        .import_facilities(&[
            facility("FA", "341122100201", FacilityKind::VillageClinic),
            facility("FT", "341122100", FacilityKind::TownshipCenter),
            facility("FB", "341123100201", FacilityKind::VillageClinic),
        ])
        .await
        .unwrap();
    run.fresh(&["import_facilities"], "facilities imported").await;
    store.import_practitioners(&[doctor("PA", "FA", true), doctor("PB", "FB", true)]).await.unwrap();
    run.fresh(&["import_practitioners"], "practitioners imported").await;
    store
        .import_households(&[
            household("H1", "341122100201"),
            household("H2", "341122100202"),
            household("H3", "341123100201"),
            household("H4", "341122100201"),
        ])
        .await
        .unwrap();
    run.fresh(&["import_households"], "households imported").await;
    store
        .import_persons(&[
            person_with(1, "H1", PovertyStatus::Lifted, &["C16"]),
            person_with(3, "H1", PovertyStatus::Lifted, &[]),
            person_with(5, "H2", PovertyStatus::General, &["I10"]),
            person_with(7, "H3", PovertyStatus::LowIncome, &["I10", "C16"]),
            person_with(9, "H3", PovertyStatus::LowIncome, &[]),
            person_with(11, "H4", PovertyStatus::Monitored, &["I10"]),
        ])
        .await
        .unwrap();
    run.fresh(&["import_persons"], "persons imported").await;
    store.import_thresholds(&[threshold("34")]).await.unwrap();
    run.fresh(&["import_thresholds"], "thresholds imported").await;
    // Any kind through the generic import.
    store.import(&[threshold("341123")]).await.unwrap();
    run.fresh(&["import"], "a generic import").await;

    // Settlement: a policy, claims imported and settled in batch, in chunks, in
    // real time alone and in a group, and a void.
    app::settlement::put_policy(
        store,
        "34",
        2024,
        include_str!("../../settle/tests/data/demo_county_2024.toml"),
        "admin",
    )
    .await
    .unwrap();
    run.fresh(&["put_policy"], "a policy stored").await;
    // C4 names its facility: its county of treatment is the facility's.
    let mut c4 = claim("C4", 7, "2024-03-02", 30_000, 28_000);
    c4.facility_id = "FB".into();
    store
        .import_claims(&[
            claim("C1", 1, "2024-03-10", 60_000, 50_000),
            claim("C2", 3, "2024-03-20", 400, 400),
            claim("C3", 5, "2024-05-01", 50, 50),
            c4,
            claim("C5", 11, "2024-08-15", 9_000, 8_000),
            claim("C0", 9, "2023-11-30", 700, 600),
        ])
        .await
        .unwrap();
    run.fresh(&["import_claims"], "claims imported").await;
    let counts = app::settlement::settle_stored(store, &all, 2024, "batch").await.unwrap();
    assert_eq!(counts.settled, 5);
    run.fresh(&["settle_stored"], "a batch settlement").await;
    store
        .import_claims(&[claim("C6", 9, "2024-06-01", 2_000, 1_800), claim("C7", 1, "2024-09-01", 5_000, 4_500)])
        .await
        .unwrap();
    run.fresh(&["import_claims"], "more claims imported").await;
    // C7 itemised: a catalogue, and its items change its eligible cost (an
    // update of the claim, which its triggers mark).
    let item = |code: &str, category| domain::items::CatalogueItem {
        province: 34,
        year: 2024,
        code: code.into(),
        name: code.into(),
        category,
        self_pay_share: Rate(0),
    };
    let catalogue = [item("A1", domain::items::ItemCategory::A), item("C1", domain::items::ItemCategory::C)];
    let labelled: Vec<(String, domain::items::CatalogueItem)> =
        catalogue.iter().map(|i| ("the catalogue".to_string(), i.clone())).collect();
    store.put_catalogue(&labelled, "admin").await.unwrap();
    let lines = [("A1", 400_000, domain::items::ItemCategory::A), ("C1", 100_000, domain::items::ItemCategory::C)];
    let items: Vec<domain::items::PricedItem> = lines
        .iter()
        .map(|(code, amount, category)| {
            let (self_pay_first, eligible) = domain::items::price_line(Fen(*amount), *category, Rate(0));
            domain::items::PricedItem {
                item_code: code.to_string(),
                name: code.to_string(),
                quantity: domain::items::Quantity::units(1),
                unit_price: Fen(*amount),
                amount: Fen(*amount),
                category: *category,
                self_pay_share: Rate(0),
                self_pay_first,
                eligible,
            }
        })
        .collect();
    let bill = store::ItemisedBill {
        label: "the items".into(),
        key: ClaimKey::new("", "C7"),
        total_cost: Fen::from_yuan(5_000),
        eligible: Fen::from_yuan(4_000),
        items,
    };
    store.put_claim_items(&all, std::slice::from_ref(&bill)).await.unwrap();
    // The same bill again, its lines borrowed (as the import of a file writes them): it replaces the first.
    let lines: Vec<domain::items::PricedLine<'_>> =
        bill.items.iter().map(domain::items::AsPricedLine::priced_line).collect();
    let head = store::BillLines {
        label: bill.label.clone(),
        key: bill.key.clone(),
        total_cost: bill.total_cost,
        eligible: bill.eligible,
        lines: 0..lines.len(),
    };
    store.put_claim_lines(&all, &[head], &lines).await.unwrap();
    run.fresh(&["put_catalogue", "put_claim_items", "put_claim_lines"], "a claim itemised against the catalogue").await;
    let counts = app::settlement::settle_stored_in_chunks(store, &all, 2024, "batch", 1).await.unwrap();
    assert_eq!(counts.settled, 2);
    run.fresh(&["settle_stored_in_chunks"], "a batch settlement in chunks").await;
    load_a_settlement(store).await;
    run.fresh(&["import_claims", "load_settlements"], "a cluster's settlement loaded").await;
    app::settlement::settle_realtime(store, &all, &claim("R1", 3, "2024-10-02", 12_000, 11_000), "clerk")
        .await
        .unwrap();
    // Claims are keyed by facility: the same ID at a facility is another claim.
    let at_facility = Claim { facility_id: "FA".into(), ..claim("R1", 3, "2024-10-02", 4_000, 3_000) };
    app::settlement::settle_realtime(store, &all, &at_facility, "clerk").await.unwrap();
    run.fresh(&["settle_realtime"], "a real-time settlement").await;
    // The desk: an admission, its bill named, a payment (no derived data).
    let adm = NewAdmission { person: pid(3), facility_id: "FA".into(), admitted: today() };
    let adm = store.admit(&all, &adm, &app::desk::deposit_waived, "clerk").await.unwrap();
    let adm = store.link_admission_claim(&all, adm.id, "R1").await.unwrap();
    let pay = NewAdmissionPayment { amount: Fen(adm.owed.0.min(100)), paid_on: today(), method: "cash".into() };
    store.record_admission_payment(&all, adm.id, &pay, "clerk").await.unwrap();
    run.fresh(&["admit", "link_admission_claim", "record_admission_payment"], "an admission and a payment").await;
    let group = [
        (all.clone(), claim("R2", 5, "2024-10-03", 3_000, 2_500)),
        (all.clone(), claim("R3", 11, "2024-10-04", 800, 700)),
        (all.clone(), claim("R4", 99, "2024-10-04", 800, 700)), // no such person: refused, the rest stands
        (Scope::new("341123").unwrap(), claim("R5", 1, "2024-10-05", 800, 700)), // outside the scope
    ];
    let results =
        app::settlement::settle_realtime_batch(store, &group.map(|(s, c)| (s, c, "clerk".to_string(), vec![])))
            .await
            .unwrap();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2, "{results:?}");
    run.fresh(&["settle_realtime_batch"], "a group of real-time settlements").await;
    app::settlement::void_claim(store, &all, &ClaimKey::new("", "C1"), "clerk").await.unwrap();
    run.fresh(&["void_claim"], "a void").await;
    app::settlement::void_claim(store, &all, &ClaimKey::new("FA", "R1"), "clerk").await.unwrap();
    run.fresh(&["void_claim"], "a void of a facility's claim").await;

    // Monitoring: a run over the store (findings applied, the ledger stored),
    // then findings of the run's own, updated values, the alert life cycle.
    let run_counts =
        app::monitoring::monitor_store(store, &all, 2024, d("2024-12-31"), &monitor::RuleSet::defaults(), "monitor")
            .await
            .unwrap();
    assert!(run_counts.alerts.raised > 0, "{run_counts:?}");
    run.fresh(&["apply_findings", "put_ledger"], "a monitor run").await;
    let findings = [
        finding("medical_burden_poor", "H4", "341122100201", 12_000),
        finding("catastrophic_10", "H2", "341122100202", 5_000),
    ];
    app::monitoring::apply_findings(store, &all, 2024, &findings, "monitor").await.unwrap();
    run.fresh(&["apply_findings"], "findings raised").await;
    let mut higher = findings.clone();
    higher[0].value = Figure::Money(Fen::from_yuan(15_000));
    let counts = app::monitoring::apply_findings(store, &all, 2024, &higher, "monitor").await.unwrap();
    assert_eq!(counts.updated, 1, "{counts:?}");
    run.fresh(&["apply_findings"], "an alert's value updated").await;
    let id = alert_id(store, "medical_burden_poor", "H4").await;
    app::monitoring::transition_alert(store, &all, id, AlertState::Verifying, "wang", "").await.unwrap();
    run.fresh(&["transition_alert"], "an alert verified").await;
    app::monitoring::transition_alert(store, &all, id, AlertState::Assisting, "wang", "confirmed").await.unwrap();
    run.fresh(&["transition_alert"], "an alert assisted").await;
    let measure = NewMeasure {
        kind: "temporary_relief".into(),
        amount: Fen::from_yuan(2_000),
        by: "civil affairs bureau".into(),
        date: d("2024-11-03"),
        note: String::new(),
    };
    app::monitoring::add_assistance(store, &all, id, &measure, "wang").await.unwrap();
    run.fresh(&["add_assistance"], "a measure recorded").await;
    app::monitoring::transition_alert(store, &all, id, AlertState::Resolved, "li", "relief paid").await.unwrap();
    run.fresh(&["transition_alert"], "an alert resolved with assistance").await;
    let other = alert_id(store, "catastrophic_10", "H2").await;
    app::monitoring::transition_alert(store, &all, other, AlertState::Dismissed, "li", "income recovered")
        .await
        .unwrap();
    run.fresh(&["transition_alert"], "an alert dismissed").await;

    // The daily work: a deadline, cases opened by an alert and by hand, moved to
    // their close (members becoming monitored, alerts resolved with the case),
    // visits and a family-doctor contract.
    store.set_case_deadline("341122", 10, Some(60)).await.unwrap();
    run.fresh(&["set_case_deadline"], "a verification deadline").await;
    app::monitoring::apply_findings(store, &all, 2024, &[finding("catastrophic_10", "H1", "341122100201", 6_000)], "m")
        .await
        .unwrap();
    // The monitor run above opened the cases of its alerts already.
    store.join_alerts_to_cases(&all, &|_| (d("2024-12-01"), d("2025-05-01")), "monitor").await.unwrap();
    run.fresh(&["apply_findings", "join_alerts_to_cases"], "alerts joined to cases").await;
    let work = app::App::new(store.clone());
    let county = app::Scope::parse("341122").unwrap();
    let day = d("2024-11-20");
    let of_h1 = app::work::CaseFilter { household: Some("H1".into()), ..Default::default() };
    let case = work.cases(&county, &of_h1, day).await.unwrap().remove(0);
    let verify = domain::work::Visit {
        household_id: "H1".into(),
        person_id: None,
        kind: domain::work::VisitKind::Verification,
        date: d("2024-11-10"),
        visitors: "wang".into(),
        findings: "bills".into(),
        next_date: None,
    };
    let steps = [
        app::work::CaseRequest::Verify { visit: verify.clone(), monitored: true },
        app::work::CaseRequest::Measure(domain::work::CaseMeasure {
            kind: "medical assistance".into(),
            amount: Fen::from_yuan(1_000),
            fund: "civil affairs".into(),
            date: d("2024-11-12"),
            note: String::new(),
        }),
        app::work::CaseRequest::Verify {
            visit: domain::work::Visit { date: d("2024-11-15"), ..verify.clone() },
            monitored: true,
        },
        app::work::CaseRequest::Close { reason: domain::work::CloseReason::RiskEliminated, note: "paid".into() },
    ];
    for (i, step) in steps.into_iter().enumerate() {
        work.move_case(&county, case.id, case.version + i as i64, step, "wang", day).await.unwrap();
        run.fresh(&["move_case"], &format!("case move {}", i + 1)).await;
    }
    let by_hand = work.open_case(&county, "H2", "officer", "debts", "wang", day).await.unwrap();
    run.fresh(&["open_case"], "a case opened by hand").await;
    let visit = domain::work::Visit { household_id: "H2".into(), kind: domain::work::VisitKind::Household, ..verify };
    work.record_visits(&county, &[("the visit".into(), visit, Some(by_hand.id))], "li", day).await.unwrap();
    run.fresh(&["record_visits"], "a visit").await;
    let contract = domain::work::DoctorContract {
        person_id: pid(5),
        practitioner_id: "PA".into(),
        signed: d("2024-03-01"),
        ends: d("2025-02-28"),
    };
    work.sign_contracts(&county, &[("the contract".into(), contract)], "li").await.unwrap();
    run.fresh(&["sign_contracts"], "a family-doctor contract").await;
    // An enrolment feeds no figure; settlements read it when they are made.
    let enrolment = domain::Enrolment {
        person_id: pid(5),
        year: 2024,
        category: domain::SubsidyCategory::Partial,
        enrolled_on: d("2023-12-01"),
    };
    work.set_enrolments(&county, &[("the enrolment".into(), enrolment)], "li").await.unwrap();
    assert_eq!(work.enrolments(&county, pid(5)).await.unwrap().len(), 1);
    run.fresh(&["set_enrolments"], "an enrolment").await;

    // The registry by hand: a household and a person created, then changed.
    let fields = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let h5 = work
        .create_household(
            &county,
            &fields(&[("household_id", "H5"), ("village_code", "341122100202"), ("size", "2"), ("income", "9000")]),
            "zhao",
        )
        .await
        .unwrap();
    run.fresh(&["create_household"], "a household created by hand").await;
    let p13 = pid(13).to_string();
    let person = fields(&[
        ("person_id", &p13),
        ("household_id", "H5"),
        ("name", "Zhou"),
        ("status", "lifted"),
        ("status_since", "2021-01-01"),
    ]);
    let p = work.create_person(&county, &person, "zhao").await.unwrap();
    run.fresh(&["create_person"], "a person created by hand").await;
    work.change_person(
        &county,
        &p,
        &fields(&[("status", "monitored"), ("status_since", "2024-11-02")]),
        "at risk",
        "zhao",
    )
    .await
    .unwrap();
    run.fresh(&["change_person"], "a person's status changed by hand").await;
    work.change_household(
        &county,
        &h5,
        &fields(&[("village_code", "341122100201"), ("income", "4000")]),
        "moved",
        "zhao",
    )
    .await
    .unwrap();
    run.fresh(&["change_household"], "a household moved and poorer, by hand").await;
    // A county's own chronic disease: the next monitor run's ledger applies it.
    let entry = domain::CatalogueEntry {
        name_zh: "慢性乙型肝炎".into(),
        name_en: "chronic hepatitis B".into(),
        icd10_prefixes: vec!["B18".into()],
        since: None,
    };
    work.add_catalogue_entry(&county, "chronic", "341122", &entry, "zhao").await.unwrap();
    run.fresh(&["add_catalogue_entry"], "a county's catalogue addition").await;

    // The ledger: a chronic patient's line, a contract on it, a line removed.
    let line = |seq: u16, hh: &str| monitor::LedgerEntry {
        person_id: pid(seq),
        household_id: hh.into(),
        batch: monitor::Batch::Chronic,
        diagnosis: "I10".into(),
        disease: "高血压".into(),
        status: monitor::TreatmentStatus::InTreatment,
        treated_in_county: Some(true),
        year_cost: Fen::from_yuan(1_000),
        contract: None,
    };
    store.put_ledger(&Scope::new("341122").unwrap(), 2024, &[line(5, "H2"), line(11, "H4")]).await.unwrap();
    run.fresh(&["put_ledger"], "ledger lines stored").await;
    let contract = monitor::Contract { doctor: "Dr Sun".into(), signed: d("2024-02-01") };
    assert_eq!(store.set_contract(&all, pid(11), &contract).await.unwrap(), 1);
    run.fresh(&["set_contract"], "a contract").await;
    let with_contract = monitor::LedgerEntry { contract: Some(contract.clone()), ..line(5, "H2") };
    store.put_ledger(&Scope::new("341122").unwrap(), 2024, &[line(11, "H4"), with_contract]).await.unwrap();
    run.fresh(&["put_ledger"], "a contract through the ledger").await;
    store.put_ledger(&Scope::new("341122").unwrap(), 2024, &[line(11, "H4")]).await.unwrap();
    run.fresh(&["put_ledger"], "a ledger line with its contract removed").await;

    // Changes to the registry: a status, a diagnosis, a person moving, a
    // household moving, an income, the network.
    store.import_persons(&[person_with(9, "H3", PovertyStatus::General, &[])]).await.unwrap();
    run.fresh(&["import_persons"], "a status change").await;
    store.import_persons(&[person_with(3, "H1", PovertyStatus::Lifted, &["I10"])]).await.unwrap();
    run.fresh(&["import_persons"], "a diagnosis added").await;
    store.import_persons(&[person_with(5, "H3", PovertyStatus::General, &["I10"])]).await.unwrap();
    run.fresh(&["import_persons"], "a person moving to a household of another county").await;
    store.import_households(&[household("H4", "341122100202")]).await.unwrap();
    run.fresh(&["import_households"], "a household moving to another village").await;
    let mut poorer = household("H2", "341122100202");
    poorer.income = Fen::from_yuan(3_000);
    store.import_households(&[poorer]).await.unwrap();
    run.fresh(&["import_households"], "a household's income").await;
    let mut c5 = claim("C5", 11, "2024-08-15", 9_000, 8_000);
    c5.diagnosis = "I10".into();
    store.import_claims(&[c5]).await.unwrap();
    run.fresh(&["import_claims"], "a settled claim corrected").await;
    store.import_claims(&[claim("C6", 7, "2024-06-01", 2_000, 1_800)]).await.unwrap();
    run.fresh(&["import_claims"], "a claim moved to another person").await;
    let mut renamed = regions();
    renamed[3].population = Some(900);
    renamed[3].name = "Village A1 (new)".into();
    store.import_regions(&renamed).await.unwrap();
    run.fresh(&["import_regions"], "a village's population").await;
    store.import_facilities(&[facility("FB", "341123100201", FacilityKind::TownshipCenter)]).await.unwrap();
    run.fresh(&["import_facilities"], "a facility changed").await;
    // C4 was treated in its patient's county (341123); now its facility stands in
    // another, and the claim counts outside.
    store.import_facilities(&[facility("FB", "341122100202", FacilityKind::TownshipCenter)]).await.unwrap();
    run.fresh(&["import_facilities"], "a facility moved to another county").await;
    store.import_practitioners(&[doctor("PB", "FB", false), doctor("PC", "FT", true)]).await.unwrap();
    run.fresh(&["import_practitioners"], "a practitioner retired, another hired").await;
    // The network's history: the kept reach is measured on the network as it
    // stood on the year's last day.
    let posted = Posting {
        practitioner_id: "PA".into(),
        facility_id: "FT".into(),
        role: PostingRole::Posting,
        start: Some(d("2024-07-01")),
        end: None,
    };
    store.record_postings(&all, &[("a posting".into(), posted)], "li").await.unwrap();
    run.fresh(&["record_postings"], "a village doctor posted to the township centre").await;
    let licence = QualificationHeld {
        practitioner_id: "PC".into(),
        qualification: Qualification::AssistantPhysician,
        obtained: Some(d("2024-03-01")),
        lapses: None,
    };
    store.record_qualifications(&all, &[("a licence".into(), licence)], "li").await.unwrap();
    run.fresh(&["record_qualifications"], "a township doctor licensed as assistant physician").await;
    // Network alerts kept and their cases feed no derived figure: kept, found
    // again, moved and resolved, the figures and the report stay as they were.
    let gap = store::FoundNetworkAlert {
        kind: "village_no_doctor".into(),
        region: code("341122100202"),
        name: "Village A2".into(),
        township: Some(code("341122100")),
        county: Some(code("341122")),
        blank_from: d("2024-11-01"),
        change: "posting_end".into(),
        practitioner_id: Some("PA".into()),
        facility_id: Some("FA".into()),
        detail: "PA's posting ends".into(),
    };
    let due = |_: RegionCode| (d("2024-11-15"), d("2025-04-30"));
    let kept =
        store.keep_network_alerts(&all, std::slice::from_ref(&gap), d("2025-12-31"), None, &due, "li").await.unwrap();
    assert_eq!(kept.raised.len(), 1);
    run.fresh(&["keep_network_alerts"], "a network alert raised with its case").await;
    let rules = app::network_cases::NetworkRules { today: d("2024-12-01") };
    let verify = domain::work::NetworkCaseMove::Verify { on: d("2024-11-20"), note: "no doctor".into() };
    store.move_network_case(&rules, &all, kept.raised[0].1, 1, &verify, "li").await.unwrap();
    run.fresh(&["move_network_case"], "a network case verified").await;
    let resolved = store.keep_network_alerts(&all, &[], d("2025-12-31"), None, &due, "li").await.unwrap();
    assert_eq!(resolved.resolved.len(), 1);
    run.fresh(&["keep_network_alerts"], "a network alert resolved").await;
    let closed =
        Facility { closed: Some(d("2024-10-01")), ..facility("FA", "341122100201", FacilityKind::VillageClinic) };
    store.import_facilities(&[closed]).await.unwrap();
    run.fresh(&["import_facilities"], "a village clinic closed").await;
    // Pairing and telemedicine feed no kept figure: the pairing indicators are
    // computed when asked.
    store
        .import_facilities(&[
            facility("FP", "34", FacilityKind::ProvincialHospital),
            facility("FC", "341122", FacilityKind::CountyHospital),
        ])
        .await
        .unwrap();
    let paired = PairingRow {
        pairing: Pairing {
            helping_id: "FP".into(),
            county_hospital_id: "FC".into(),
            start: d("2024-01-01"),
            end: None,
        },
        staff: None,
    };
    store.record_pairings(&all, &[("a pairing".into(), paired)], "li").await.unwrap();
    let linked = TelemedicineLink {
        county_hospital_id: "FC".into(),
        township_id: "FT".into(),
        kind: TelemedicineKind::Consultation,
        start: d("2024-01-01"),
        end: None,
    };
    store.record_telemedicine(&all, &[("a link".into(), linked)], "li").await.unwrap();
    run.fresh(&["import_facilities", "record_pairings", "record_telemedicine"], "a county hospital paired and linked")
        .await;

    // A streamed import, in two chunks.
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tx.send(ImportFeed::Rows(vec![claim("S1", 9, "2024-12-01", 1_500, 1_200)])).await.unwrap();
    tx.send(ImportFeed::Rows(vec![claim("S2", 7, "2024-12-02", 2_500, 2_200)])).await.unwrap();
    tx.send(ImportFeed::Done).await.unwrap();
    let counts = store.import_stream::<Claim>(&mut rx).await.unwrap();
    assert_eq!(counts.inserted, 2);
    run.fresh(&["import_stream"], "a streamed import").await;
    // A new village's households and persons in one more streamed import each.
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportFeed::Rows(vec![household("H5", "341123100201")])).await.unwrap();
    tx.send(ImportFeed::Done).await.unwrap();
    store.import_stream::<Household>(&mut rx).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportFeed::Rows(vec![person_with(13, "H5", PovertyStatus::SpecialHardship, &["C16"])])).await.unwrap();
    tx.send(ImportFeed::Done).await.unwrap();
    store.import_stream::<Person>(&mut rx).await.unwrap();
    run.fresh(&["import_stream"], "a streamed household and person").await;
    app::settlement::settle_stored(store, &all, 2024, "batch").await.unwrap();
    run.fresh(&["settle_stored"], "the streamed claims settled").await;

    // Accounts and their traces: no derived figure depends on them.
    let user = store
        .create_user(&store::NewUser {
            username: "wang".into(),
            password_hash: "x".into(),
            role: "officer".into(),
            region_scope: "341122".into(),
            facility_id: None,
        })
        .await
        .unwrap();
    store.set_login_state(user.id, 1, None).await.unwrap();
    store.set_password(user.id, "y").await.unwrap();
    store.set_user_active(user.id, true).await.unwrap();
    store.set_user_facility(user.id, Some("F1")).await.unwrap();
    let session = store::SessionRow {
        token_hash: "s1".into(),
        user_id: user.id,
        csrf_token: "c".into(),
        expires_at: Utc::now() + chrono::Duration::hours(1),
    };
    store.create_session(&session).await.unwrap();
    store.delete_session("s1").await.unwrap();
    store
        .create_api_token(&store::NewApiToken {
            token_hash: "t1".into(),
            id: "t1id".into(),
            user_id: user.id,
            name: "script".into(),
            role: "officer".into(),
            region_scope: "341122".into(),
            expires_at: Utc::now() + chrono::Duration::days(90),
        })
        .await
        .unwrap();
    assert!(store.api_token_user("t1").await.unwrap().is_some());
    assert!(store.api_token("t1").await.unwrap().is_some());
    assert!(store.revoke_api_token("t1id").await.unwrap());
    store.replace_password(user.id, "z", None).await.unwrap();
    store.end_sessions_of(user.id, None).await.unwrap();
    let audit = store::AuditRow {
        at: Utc::now(),
        actor: "wang".into(),
        action: "view".into(),
        object_kind: "person".into(),
        object_id: String::new(),
        region_code: None,
        detail: String::new(),
    };
    store.audit(&audit).await.unwrap();
    store.audit_many(&[audit.clone(), audit]).await.unwrap();
    store
        .record_import_run(&store::ImportRunRow {
            id: 0,
            kind: "claims".into(),
            file_name: "c.csv".into(),
            rows: 2,
            status: store::ImportStatus::Accepted,
            errors: String::new(),
            actor: "wang".into(),
            at: Utc::now(),
            scope: String::new(),
        })
        .await
        .unwrap();
    run.fresh(
        &[
            "create_user",
            "set_login_state",
            "set_password",
            "set_user_active",
            "set_user_facility",
            "create_session",
            "delete_session",
            "create_api_token",
            "api_token_user",
            "api_token",
            "revoke_api_token",
            "replace_password",
            "end_sessions_of",
            "audit",
            "audit_many",
            "record_import_run",
        ],
        "accounts and traces",
    )
    .await;

    // The server's keys and the plausibility limits feed no derived figure.
    store.server_key("test", &[1u8; 32]).await.unwrap();
    store
        .set_amount_limit(domain::LimitSubject::Measure, "临时救助", "*", Some(domain::Fen::from_yuan(9_000)), "admin")
        .await
        .unwrap();
    // Nor do the indicators' targets: a report draws its values against them.
    let target = store::NewTarget {
        indicator: "poor_out_of_pocket_share".into(),
        region: "34".into(),
        year: Some(2024),
        set: Some(("at_most".into(), 12.5, 2.0)),
        source: "test".into(),
    };
    store.put_target(&target, "admin").await.unwrap();
    run.fresh(&["server_key", "set_amount_limit", "put_target"], "keys, limits and targets").await;

    // Nor do kept plans and the visits made against them: the share of
    // planned visits made is counted when asked (docs/plans.md).
    let line = PlanLine {
        village: code("341122100201"),
        kind: LineKind::Rove,
        practitioner_id: Some("PA".into()),
        term_start: None,
        term_end: None,
        days: PlanDays::parse("Mon;Thu").unwrap(),
        halfdays: String::new(),
        travel_minutes: None,
    };
    let plan = store::NewPlan {
        region: code("341122"),
        period_start: d("2024-01-01"),
        period_end: d("2024-12-31"),
        as_of: d("2024-01-01"),
        planner: "{}".into(),
        travel_minutes: 0.0,
        lower_bound_minutes: 0.0,
        lines: vec![line.clone()],
        tours: vec![],
    };
    let kept = store.save_plan(&all, &plan, "officer").await.unwrap();
    store.replace_plan_lines(&all, kept.id, &[line], "officer").await.unwrap();
    store.move_plan(&all, kept.id, PlanState::Approved, d("2024-01-02"), "chief").await.unwrap();
    store.move_plan(&all, kept.id, PlanState::InForce, d("2024-01-02"), "chief").await.unwrap();
    let visit = PlanVisit {
        plan_id: kept.id,
        village: code("341122100201"),
        practitioner_id: None,
        date: d("2024-01-04"),
        note: String::new(),
    };
    store.record_plan_visits(&all, &[("a visit".into(), visit)], "doctor", d("2024-06-01")).await.unwrap();
    run.fresh(
        &["save_plan", "replace_plan_lines", "move_plan", "record_plan_visits"],
        "a plan kept and put in force, a visit made against it",
    )
    .await;

    // The derived data's own writes, once more by turns.
    store.refresh_figures_turn(&all, 1).await.unwrap();

    let missing: Vec<&&str> = WRITES.iter().filter(|w| !run.done.contains(w)).collect();
    assert!(missing.is_empty(), "writes this test does not perform: {missing:?}");
}

/// A claim imported and its settlement, computed here as a cluster would, loaded
/// (`Store::load_settlements`) with the person's accumulators.
async fn load_a_settlement(store: &Store) {
    let all = Scope::all();
    store.import_claims(&[claim("L1", 7, "2024-11-02", 4_000, 3_500)]).await.unwrap();
    let mut found = Vec::new();
    store
        .year_claims::<String>(&all, 2024, |chunk| {
            found.extend(chunk.into_iter().filter(|(c, _)| c.claim_id == "L1"));
            Ok(())
        })
        .await
        .unwrap();
    let (c, village) = found.pop().expect("the claim L1 is read");
    let candidates = store.year_policy_candidates(&all, 2024).await.unwrap();
    let mine: Vec<_> = candidates.iter().filter(|p| village.to_string().starts_with(&p.region)).cloned().collect();
    let rec = mine[app::settlement::in_force(&mine, village, 2024).unwrap()].clone();
    let policy = settle::Policy::parse(&rec.source).unwrap();
    let inputs = store.monitor_inputs(&all, 2024).await.unwrap();
    let status = inputs.persons.iter().find(|p| p.person_id == c.person_id).unwrap().status;
    let stored = store.year_accumulators(&all, 2024).await.unwrap();
    let mut acc = settle::Accumulators { tiers: vec![Default::default(); policy.names.len()] };
    for a in stored.iter().filter(|a| a.person == c.person_id) {
        let k = policy.names.iter().position(|n| *n == a.tier).unwrap();
        acc.tiers[k] = a.acc;
    }
    let s = settle::settle_claim(&policy, &domain::settlement::ClaimInput::from(&c), status, &mut acc);
    let row = store::LoadSettlement {
        claim_id: c.claim_id.clone(),
        facility_id: c.facility_id.clone(),
        person: c.person_id,
        total_cost: c.total_cost,
        eligible_cost: c.eligible_cost,
        out_of_pocket: s.out_of_pocket,
        payments: policy.names.iter().cloned().zip(s.payments).collect(),
        policy_id: rec.id,
        policy_version: rec.version,
        status,
    };
    let accs: Vec<store::LoadAccumulator> = policy
        .names
        .iter()
        .zip(&acc.tiers)
        .map(|(n, a)| store::LoadAccumulator { person: c.person_id, tier: n.clone(), acc: *a })
        .collect();
    let engine = app::settlement::engine();
    let done = store.load_settlements(engine, &all, 2024, &[row], &accs, "cluster").await.unwrap().unwrap();
    assert_eq!(done.settlements, 1);
}
