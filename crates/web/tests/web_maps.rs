//! The overview's and the coverage page's map draws real outlines (issue 17): the
//! scope's own and the level below's, shaded by the indicator: the country and its
//! provinces, a province and its cities, a city and its counties, a county (the
//! demo's, 来安县 341122) and its villages as dots inside its outline.

mod common;

use std::sync::Arc;

use app::App;
use common::*;
use domain::RegionLevel;
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

    // A city: its own outline and its counties' (the division table's eight
    // county-level units of 滁州; its two development zones have no outline),
    // the demo's county shaded by its figures, the others blank.
    let page = srv.login("city").await.get("/").await.body;
    assert_eq!(paths(&page, "scope"), vec!["341100"]);
    let counties = paths(&page, "sub");
    assert_eq!(
        counties,
        vec!["341102", "341103", "341122", "341124", "341125", "341126", "341181", "341182"],
        "{counties:?}"
    );
    let fill_of = |page: &str, code: &str| -> String {
        let after = page.split(format!("data-code=\"{code}\" d=\"").as_str()).nth(1).unwrap();
        after.split("fill=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
    };
    assert_ne!(fill_of(&page, "341122"), "#fff", "the demo county has figures");
    assert_eq!(fill_of(&page, "341182"), "#fff", "明光 has none");
    assert!(paths(&page, "context").is_empty());

    // A county: its own outline, no level below, its village as a dot, on the
    // overview and on the coverage page.
    let mut c = srv.login("county").await;
    for url in ["/", "/coverage"] {
        let page = c.get(url).await.body;
        assert_eq!(paths(&page, "scope"), vec!["341122"], "{url}");
        assert!(paths(&page, "sub").is_empty(), "{url}");
        assert!(paths(&page, "context").is_empty(), "{url}");
        assert!(page.contains("<circle"), "{url}: the villages stay dots");
    }
}

/// The demo's county as the demo makes it (the synthetic network of 来安县, the
/// default `synth` run): a county officer's overview and coverage page draw the
/// county's real outline, a path of many points and not a box, and every village
/// as a dot inside it.
#[tokio::test]
async fn the_demo_countys_map_draws_its_outline_with_the_villages_inside() {
    let mut net = synth::Collect::default();
    synth::generate_network(&synth::Config::default(), &mut net).unwrap();
    let villages = net.regions.iter().filter(|r| r.level == RegionLevel::Village).count();
    let rural = net.regions.iter().filter(|r| r.level == RegionLevel::Village && r.is_rural()).count();
    assert!(rural >= 20 && villages > rural, "{villages} villages, {rural} rural");
    let app = App::open(":memory:").await.unwrap();
    app.store().import_regions(&net.regions).await.unwrap();
    let srv = start(Arc::new(app)).await;
    srv.user("county", Role::Officer, synth::default_county()).await;
    let mut c = srv.login("county").await;
    for url in ["/", "/coverage"] {
        let page = c.get(url).await.body;
        assert_eq!(paths(&page, "scope"), vec!["341122"], "{url}");
        assert!(paths(&page, "sub").is_empty() && paths(&page, "context").is_empty(), "{url}");
        let svg = page.split("<svg class=\"map\"").nth(1).unwrap().split("</svg>").next().unwrap();
        let d = svg.split("data-code=\"341122\" d=\"").nth(1).unwrap().split('"').next().unwrap();
        let points = d.matches(' ').count() + 1;
        assert!(points > 50, "{url}: a real outline of {points} points");
        // The outline's projected box holds every dot.
        let xy: Vec<(f64, f64)> = d
            .split(['M', 'Z', ' '])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        let (x0, x1) = xy.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (y0, y1) = xy.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        let dots: Vec<(f64, f64)> = svg
            .split("<circle cx=\"")
            .skip(1)
            .map(|c| {
                let x = c.split('"').next().unwrap().parse().unwrap();
                let y = c.split("cy=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
                (x, y)
            })
            .collect();
        // The overview maps every village; the coverage page the rural ones.
        let want = if url == "/" { villages } else { rural };
        assert_eq!(dots.len(), want, "{url}: every village a dot");
        for (x, y) in dots {
            assert!(x >= x0 && x <= x1 && y >= y0 && y <= y1, "{url}: dot {x},{y} outside the county's box");
        }
    }
}
