//! The overview's second bottom line: the villages blank now, counted by the
//! coverage rule for the user's scope (not a fixed figure), the same on the
//! overview, the summary API and the coverage page.

mod common;

use common::*;
use web::access::Role;

on_each_repo!(
    the_overview_counts_the_blank_villages_of_the_scope,
    a_posting_recorded_changes_the_card_and_the_page_alike
);

async fn the_overview_counts_the_blank_villages_of_the_scope(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    // County A's village has a clinic and a serving rural doctor; county B's has
    // no clinic at all.
    for (user, want) in [("admin", 1), ("officer_a", 0), ("officer_b", 1)] {
        let mut c = srv.login(user).await;
        let mut got = serde_json::Value::Null;
        // Counted in the background: answered within a moment on data this small.
        for _ in 0..50 {
            got = c.get("/api/v1/indicators/summary").await.json()["blank_villages"].clone();
            if !got.is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(got, serde_json::json!(want), "{user}");
        let page = c.get("/").await.body;
        // The coverage page's row for now: villages without a clinic, without a doctor.
        let coverage = c.get("/coverage").await.body;
        let row = coverage.split("<tr><td>当前</td>").nth(1).expect("the row for now");
        let cells: Vec<u64> = row
            .split("</tr>")
            .next()
            .unwrap()
            .split("<td>")
            .filter_map(|c| c.split("</td>").next()?.parse().ok())
            .collect();
        assert_eq!(cells[0] + cells[1], want, "{user}: the card agrees with the coverage page {cells:?}");
        let villages = if user == "admin" { 2 } else { 1 };
        assert!(page.contains(&format!("<strong>{want} / {villages}</strong>")), "{user}: {page}");
    }
}

/// The number of villages blank now, as the overview's card, the summary API,
/// the coverage API and the coverage page give it to `c`.
async fn four_counts(c: &mut Client) -> [u64; 4] {
    let mut summary = serde_json::Value::Null;
    for _ in 0..50 {
        summary = c.get("/api/v1/indicators/summary").await.json()["blank_villages"].clone();
        if !summary.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let page = c.get("/").await.body;
    let card: u64 = page
        .split("data-k=\"blank_villages\"")
        .nth(1)
        .and_then(|s| s.split("<strong>").nth(1)?.split(" / ").next()?.parse().ok())
        .unwrap_or_else(|| panic!("the card: {page}"));
    let api = c.get("/api/v1/coverage").await.json()["blank_villages"].as_u64().unwrap();
    let coverage = c.get("/coverage").await.body;
    let row = coverage.split("<tr><td>当前</td>").nth(1).expect("the row for now");
    let cells: Vec<u64> = row
        .split("</tr>")
        .next()
        .unwrap()
        .split("<td>")
        .filter_map(|c| c.split("</td>").next()?.parse().ok())
        .collect();
    [summary.as_u64().unwrap(), card, api, cells[0] + cells[1]]
}

/// The card counts from the network's history as the coverage page does, and
/// a posting recorded shows on both at once (the counts kept for a few minutes
/// are forgotten when the network changes).
async fn a_posting_recorded_changes_the_card_and_the_page_alike(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    let mut c = srv.login("admin").await;
    assert_eq!(four_counts(&mut c).await, [1; 4], "county B's village has no clinic");
    // County A's only doctor was posted to its clinic until 2000 and works
    // nowhere since: its village is blank today.
    c.csrf_header = Some(c.csrf().await);
    let body =
        serde_json::json!({ "facility_id": "FA1", "role": "posting", "start": "1990-01-01", "end": "2000-12-31" });
    let r = c.post_json("/api/v1/practitioners/PA1/postings", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(four_counts(&mut c).await, [2; 4]);
}
