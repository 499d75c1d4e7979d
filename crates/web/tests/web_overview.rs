//! The overview's second bottom line: the villages blank now, counted by the
//! coverage rule for the user's scope (not a fixed figure), the same on the
//! overview, the summary API and the coverage page.

mod common;

use common::*;
use web::access::Role;

on_each_repo!(the_overview_counts_the_blank_villages_of_the_scope);

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
