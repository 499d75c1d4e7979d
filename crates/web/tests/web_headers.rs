//! Every answer carries the protective headers: no framing by other sites, no
//! content-type sniffing, no referrer leaving the site, and no caching of pages
//! or API answers that hold personal data (the static files may be cached).

mod common;

use common::*;
use web::access::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_protective_headers() {
    let (srv, fx) = start_filled(Kind::Memory).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    let mut anon = srv.client();
    let mut officer = srv.login("officer_a").await;
    let person = format!("/persons/{}", fx.a_person);
    let answers = [
        ("login page", anon.get("/login").await),
        ("an unknown page", anon.get("/no-such-page").await),
        ("an API call without a token", anon.get("/api/v1/persons").await),
        ("a person's page", officer.get(&person).await),
        ("the cases", officer.get("/cases").await),
        ("an API answer", officer.get("/api/v1/cases").await),
    ];
    for (what, r) in &answers {
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}: {:?}", r.headers);
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{what}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
        assert!(r.header("content-security-policy").is_some_and(|c| c.contains("frame-ancestors 'none'")), "{what}");
    }
    assert_eq!(answers[3].1.status, 200, "the person's page is served");
    let css = anon.get("/static/app.css").await;
    assert_eq!(css.header("cache-control"), Some("max-age=3600"), "static files may be cached");
    assert_eq!(css.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_are_for_the_roles_that_import() {
    let (srv, _fx) = start_filled(Kind::Memory).await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("clerk_a", Role::Clerk, "341122").await;
    for who in ["viewer_a", "officer_a"] {
        let mut c = srv.login(who).await;
        assert_eq!(c.get("/imports").await.status, 403, "{who}");
        assert!(!c.get("/").await.body.contains("href=\"/imports\""), "{who} sees no link");
    }
    let mut clerk = srv.login("clerk_a").await;
    let page = clerk.get("/imports").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("check digit"), "county A's clerk sees county A's report");
    // A clerk of county B does not see county A's run, nor its report.
    srv.user("clerk_b", Role::Clerk, "341123").await;
    let page = srv.login("clerk_b").await.get("/imports").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("persons.csv") && !page.body.contains("check digit"), "{}", page.body);
}
