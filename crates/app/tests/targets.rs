//! The indicators' targets over the store, on both engines: the shipped targets
//! in force, an administrator's change kept as a new version with who and when,
//! audited, and drawn at once on the report and the overview's headline without
//! rebuilding any fact; removals, refusals, and the report compared with the
//! year before.

mod common;
use common::*;
use domain::*;
use indicators::{Compare, Definitions, Direction, PeriodKind, Status};
use store::Store;

both_backends!(targets_are_kept_versioned_audited_and_drawn_without_rebuilding);

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn today() -> chrono::NaiveDate {
    domain::time::china_today()
}

/// The status and target of an indicator on the county row of a report.
fn drawn(
    r: &app::analysis::Report,
    county: &str,
    id: &str,
) -> (Option<f64>, Option<String>, Option<Status>, Option<f64>) {
    let row = r.rows.iter().find(|x| x.region.short() == county).unwrap_or_else(|| panic!("no row {county}"));
    let i = r.defs.indicators.iter().position(|d| d.id == id).unwrap();
    let d = indicators::report::draw(&r.defs, &r.targets, row)[i];
    (row.values[i].value, d.target.map(|t| t.describe()), d.status, d.previous)
}

fn edit(region: &str, set: Option<(Direction, f64, f64)>) -> app::targets::TargetEdit {
    app::targets::TargetEdit {
        indicator: "poor_treated_in_county_share".into(),
        region: region.into(),
        year: None,
        set,
        source: "provincial plan".into(),
    }
}

async fn targets_are_kept_versioned_audited_and_drawn_without_rebuilding(store: &Store) {
    seed(store).await;
    // Claims of two years at county hospitals, settled under the province's policy.
    for year in [2023, 2024] {
        let policy = POLICY.replace("year = 2024", &format!("year = {year}"));
        app::settlement::put_policy(store, "34", year, &policy, "admin").await.unwrap();
    }
    store
        .import_claims(&[
            claim("A23", 1, "2023-04-10", 20_000, 18_000),
            claim("A24", 1, "2024-04-10", 30_000, 25_000),
            claim("B24", 7, "2024-06-01", 10_000, 9_000),
        ])
        .await
        .unwrap();
    for year in [2023, 2024] {
        app::settlement::settle_stored(store, &store::Scope::all(), year, "admin").await.unwrap();
    }
    let app = app::App::new(store.clone());
    let all = app::Scope::all();
    let county = |r: &app::analysis::Report| drawn(r, "341122", "poor_treated_in_county_share");

    // The shipped targets, never changed.
    let set = app.indicator_targets().await.unwrap();
    assert!(set.rows.iter().all(|r| r.changed.is_none()));
    assert_eq!(set.targets, indicators::Targets::shipped());
    assert!(app.target_changes(10).await.unwrap().is_empty());

    // The report draws each value against the national target: all inside the county, met.
    let report = |app: app::App| async move {
        app.report(Definitions::shipped(), &app::Scope::all(), 2024, vec![RegionLevel::County], PeriodKind::Year)
            .await
            .unwrap()
    };
    let r = report(app.clone()).await;
    assert_eq!(county(&r), (Some(100.0), Some("≥ 90".into()), Some(Status::Met), None));
    let h = app.target_headline(&all).await.unwrap().expect("2024 is kept");
    assert_eq!(h.year, 2024);
    let item = h.items.iter().find(|i| i.def.id == "poor_treated_in_county_share").unwrap();
    assert_eq!((item.value, item.status), (Some(100.0), Some(Status::Met)));
    assert!(h.items.iter().all(|i| i.def.id != "funds_paid"), "only indicators with a target");

    // The province's own target: at most 50 % (an odd one, to see it bite).
    let years_before = store.indicator_years().await.unwrap();
    let c = app.set_target(&all, "admin", edit("34", Some((Direction::AtMost, 50.0, 10.0)))).await.unwrap();
    assert_eq!((c.changed.version, c.changed.by.as_str()), (1, "admin"));
    // Nothing derived is stale or rebuilt: the targets are applied when a report is drawn.
    assert!(store.indicator_dirty().await.unwrap().is_empty());
    assert_eq!(app::kept::refresh(store, None, today(), None).await.unwrap(), app::kept::Refreshed::default());
    assert_eq!(store.indicator_years().await.unwrap(), years_before);
    let r = report(app.clone()).await;
    assert_eq!(county(&r), (Some(100.0), Some("≤ 50".into()), Some(Status::Missed), None));
    let item = app.target_headline(&all).await.unwrap().unwrap();
    let item = item.items.iter().find(|i| i.def.id == "poor_treated_in_county_share").unwrap();
    assert_eq!(
        (item.target.value, item.status),
        (90.0, Some(Status::Met)),
        "the nation's headline keeps the national target"
    );
    let county_a = app::Scope::parse("341122").unwrap();
    let h = app.target_headline(&county_a).await.unwrap().unwrap();
    let item = h.items.iter().find(|i| i.def.id == "poor_treated_in_county_share").unwrap();
    assert_eq!((item.target.value, item.status), (50.0, Some(Status::Missed)), "the county falls under the province's");

    // A new version; the one in force says who and which.
    let c = app.set_target(&all, "wang", edit("34", Some((Direction::AtMost, 100.0, 0.0)))).await.unwrap();
    assert_eq!(c.changed.version, 2);
    let set = app.indicator_targets().await.unwrap();
    let row = set.rows.iter().find(|r| r.target.region == "34").unwrap();
    assert_eq!((row.changed.as_ref().unwrap().version, row.changed.as_ref().unwrap().by.as_str()), (2, "wang"));
    assert_eq!(row.target.source, "provincial plan");
    assert_eq!(county(&report(app.clone()).await).2, Some(Status::Met));

    // Removed: the national target applies again.
    let c = app.set_target(&all, "admin", edit("34", None)).await.unwrap();
    assert_eq!((c.changed.version, c.target), (3, None));
    assert_eq!(county(&report(app.clone()).await).1, Some("≥ 90".into()));
    let changes = app.target_changes(10).await.unwrap();
    let versions: Vec<i64> = changes.iter().map(|c| c.changed.version).collect();
    assert_eq!(versions, [3, 2, 1], "newest first");

    // Refused: a removal of nothing, an unknown indicator, a bad region or value,
    // a region outside the administrator's scope.
    let e = app.set_target(&all, "admin", edit("34", None)).await.unwrap_err();
    assert!(matches!(e, app::AppError::NotFound(_)), "{e}");
    let mut bad = edit("", Some((Direction::AtLeast, 1.0, 0.0)));
    bad.indicator = "catastrophic_spending_share".into();
    let e = app.set_target(&all, "admin", bad).await.unwrap_err();
    assert!(matches!(&e, app::AppError::Invalid(m) if m.contains("catastrophic_spending_share")), "{e}");
    for (region, set, why) in [
        ("341", Some((Direction::AtLeast, 1.0, 0.0)), "region"),
        ("", Some((Direction::AtLeast, f64::NAN, 0.0)), "value"),
        ("", Some((Direction::AtLeast, 1.0, -1.0)), "tolerance"),
    ] {
        let e = app.set_target(&all, "admin", edit(region, set)).await.unwrap_err();
        assert!(matches!(&e, app::AppError::Invalid(m) if m.contains(why)), "{why}: {e}");
    }
    let county_b = app::Scope::parse("341123").unwrap();
    let e = app.set_target(&county_b, "admin", edit("341122", Some((Direction::AtLeast, 1.0, 0.0)))).await.unwrap_err();
    assert!(matches!(&e, app::AppError::Invalid(m) if m.contains("scope")), "{e}");
    assert_eq!(app.target_changes(10).await.unwrap().len(), 3, "nothing stored by a refusal");

    // Audited, each change with what it set.
    let log = app.audit_log(100).await.unwrap();
    let set_rows: Vec<&app::AuditEntry> = log.iter().filter(|e| e.action == "set_target").collect();
    assert_eq!(set_rows.len(), 2);
    assert!(set_rows.iter().any(|e| e.username == "wang" && e.detail.contains("at_most 100")), "{set_rows:?}");
    assert!(set_rows.iter().all(|e| e.target.contains("poor_treated_in_county_share") && e.target.contains("34")));
    assert_eq!(log.iter().filter(|e| e.action == "remove_target").count(), 1);

    // Compared with the year before: 2023's figures beside 2024's.
    let r = app
        .report_compared(
            Definitions::shipped(),
            &all,
            2024,
            vec![RegionLevel::County],
            PeriodKind::Year,
            Some(Compare::PreviousYear),
            domain::CountyGroup::All,
        )
        .await
        .unwrap();
    assert_eq!(county(&r).3, Some(100.0), "2023's claim was at a county hospital too");
    let csv = String::from_utf8(r.csv().unwrap()).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.contains("poor_treated_in_county_share_previous,poor_treated_in_county_share_change"), "{header}");
    // County B had no claim in 2023: no ratio then, so no change.
    assert_eq!(drawn(&r, "341123", "poor_treated_in_county_share").3, None);
    let e = app
        .report_compared(
            Definitions::shipped(),
            &all,
            2000,
            vec![RegionLevel::County],
            PeriodKind::Year,
            Some(Compare::PreviousYear),
            domain::CountyGroup::All,
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, app::AppError::Invalid(m) if m.contains("1999")), "{e}");
}
