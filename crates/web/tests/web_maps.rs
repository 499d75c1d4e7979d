//! The overview's and the coverage page's map draws real outlines (issue 17): the
//! scope's own and the level below's, shaded by the indicator; where no outline of
//! the scope is held (a county: county lines are not shipped) it frames the dots
//! and draws the enclosing city as context.

mod common;

use common::*;
use web::access::Role;

on_each_repo!(the_map_draws_the_outlines_of_the_scope_and_the_level_below);

fn paths<'a>(page: &'a str, class: &str) -> Vec<&'a str> {
    let open = format!("<path class=\"{class}\" data-code=\"");
    page.split(open.as_str()).skip(1).filter_map(|p| p.split('"').next()).collect()
}

async fn the_map_draws_the_outlines_of_the_scope_and_the_level_below(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    srv.user("admin", Role::Administrator, "").await;
    srv.user("province", Role::Officer, "34").await;
    srv.user("city", Role::Officer, "3411").await;
    srv.user("county", Role::Officer, "341122").await;

    // The whole country: the provinces, Anhui shaded by its figures.
    let page = srv.login("admin").await.get("/").await.body;
    let provinces = paths(&page, "sub");
    assert_eq!(provinces.len(), 34, "{provinces:?}");
    assert!(provinces.contains(&"340000") && provinces.contains(&"110000"));
    assert!(paths(&page, "scope").is_empty());
    let anhui = page.split("data-code=\"340000\"").nth(1).unwrap();
    assert!(anhui.starts_with(" d=\"M"), "{anhui:.80}");
    assert!(anhui.contains("安徽 340000"), "{anhui:.2000}");
    assert!(!anhui.split("</path>").next().unwrap().contains("fill=\"#fff\""), "Anhui has figures: shaded");

    // A province: its outline and its 16 cities.
    let page = srv.login("province").await.get("/").await.body;
    assert_eq!(paths(&page, "scope"), vec!["340000"]);
    let cities = paths(&page, "sub");
    assert_eq!(cities.len(), 16, "{cities:?}");
    assert!(cities.iter().all(|c| c.starts_with("34")));
    // Paths are rounded to 0.1 px.
    let d = page.split("data-code=\"340100\" d=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(d
        .split([' ', ',', 'M', 'Z'])
        .filter(|n| !n.is_empty())
        .all(|n| n.split('.').nth(1).is_none_or(|f| f.len() == 1)));

    // A city: its own outline (no county lines are held).
    let page = srv.login("city").await.get("/").await.body;
    assert_eq!(paths(&page, "scope"), vec!["341100"]);
    assert!(paths(&page, "sub").is_empty());

    // A county: no outline of its own; the city as context, the villages as dots.
    let mut c = srv.login("county").await;
    let page = c.get("/").await.body;
    assert!(paths(&page, "scope").is_empty());
    assert_eq!(paths(&page, "context"), vec!["341100"]);
    assert!(page.contains("<circle"), "the villages stay dots");
    let coverage = c.get("/coverage").await.body;
    assert_eq!(paths(&coverage, "context"), vec!["341100"]);
}
