//! Kept roving and dispatch plans over HTTP (docs/plans.md): a plan saved over
//! the API, approved and put in force with the page's CSRF-checked forms by a
//! county officer, a visit recorded by the village doctor; the plan page and
//! the API then show the visit made against the visits due, and the indicator
//! counts it. Roles without the right get 403, other counties 404, a form
//! without its token 403.

mod common;

use common::*;
use serde_json::json;
use web::access::Role;

on_each_repo!(a_plan_is_kept_approved_put_in_force_and_followed);

async fn api(srv: &Server, user: &str) -> Client {
    let mut c = srv.login(user).await;
    c.csrf_header = Some(c.csrf().await);
    c
}

/// The cells of the row of `village` in the plan page's table by village.
fn village_row(body: &str, village: &str) -> Vec<String> {
    let table = body.split("id=\"plan-villages\"").nth(1).expect("the table by village");
    let row = table.split(&format!("<tr><td>{village}</td>")).nth(1).expect("the village's row");
    let row = row.split("</tr>").next().unwrap();
    row.split("<td>").filter_map(|c| c.split("</td>").next()).map(str::to_string).collect()
}

async fn a_plan_is_kept_approved_put_in_force_and_followed(kind: Kind) {
    let (srv, _fx) = start_filled(kind).await;
    srv.user("officer_a", Role::Officer, "341122").await;
    srv.user("officer_b", Role::Officer, "341123").await;
    srv.user("viewer_a", Role::Viewer, "341122").await;
    srv.user("doctor_a", Role::VillageDoctor, "341122100201").await;
    let today = domain::time::china_today();
    let year = today.format("%Y").to_string();
    let village = "341122100201";

    // Saved over the API by hand: PA1 roves to the village every day.
    let mut a = api(&srv, "officer_a").await;
    let body = json!({
        "region_code": "341122",
        "period_start": format!("{year}-01-01"),
        "period_end": format!("{year}-12-31"),
        "lines": [{ "village_code": village, "kind": "rove", "practitioner_id": "PA1", "days": "Mon;Tue;Wed;Thu;Fri;Sat;Sun" }]
    })
    .to_string();
    let r = a.post_json("/api/v1/plans", &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let plan = r.json();
    assert_eq!((plan["state"].clone(), plan["version"].clone()), (json!("draft"), json!(1)));
    let id = plan["id"].as_i64().unwrap();
    let page_path = format!("/plans/{id}");

    // Refusals: a field of the wrong form (400), a village outside the region
    // (422), a role without the right (403), another county (404).
    let bad = body.replace("\"rove\"", "\"walk\"");
    assert_eq!(a.post_json("/api/v1/plans", &bad).await.status, 400);
    let outside = body.replace(village, "341123100201");
    let r = a.post_json("/api/v1/plans", &outside).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("outside the plan's region"), "{}", r.body);
    let mut viewer = api(&srv, "viewer_a").await;
    assert_eq!(viewer.post_json("/api/v1/plans", &body).await.status, 403);
    assert_eq!(viewer.get(&format!("/api/v1/plans/{id}")).await.status, 200, "a viewer reads the plan");
    let mut doctor = api(&srv, "doctor_a").await;
    let r = doctor.post_json(&format!("/api/v1/plans/{id}/moves"), r#"{"to":"approved"}"#).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let mut b = api(&srv, "officer_b").await;
    assert_eq!(b.get(&format!("/api/v1/plans/{id}")).await.status, 404);
    assert_eq!(b.post_json(&format!("/api/v1/plans/{id}/moves"), r#"{"to":"approved"}"#).await.status, 404);
    assert!(b.get("/api/v1/plans").await.json()["items"].as_array().unwrap().is_empty());
    // No visit to a draft.
    let visit = json!({ "village_code": village, "date": today.to_string() }).to_string();
    let r = doctor.post_json(&format!("/api/v1/plans/{id}/visits"), &visit).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("in force"), "{}", r.body);

    // The plan page: the approve button for the county officer, none for the viewer.
    let mut a_page = srv.login("officer_a").await;
    let p = a_page.get(&page_path).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("id=\"move-approved\"") && !p.body.contains("id=\"move-in_force\""), "{}", p.body);
    let v = srv.login("viewer_a").await.get(&page_path).await;
    assert_eq!(v.status, 200);
    assert!(!v.body.contains("move-approved"));
    let listed = a_page.get("/plans").await;
    assert!(
        listed.body.contains(&format!("href=\"/plans/{id}\"")) && listed.body.contains("state-draft"),
        "{}",
        listed.body
    );

    // The forms: refused without the token, and by a role without the right.
    let csrf = a_page.csrf().await;
    let move_path = format!("/plans/{id}/move");
    assert_eq!(a_page.post_form(&move_path, &[("to", "approved")]).await.status, 403);
    let mut v_page = srv.login("viewer_a").await;
    let v_csrf = v_page.csrf().await;
    assert_eq!(v_page.post_form(&move_path, &[("csrf", &v_csrf), ("to", "approved")]).await.status, 403);
    // Put in force before approval: refused on the page, with the reason.
    let r = a_page.post_form(&move_path, &[("csrf", &csrf), ("to", "in_force")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("flash error") && r.body.contains("draft"), "{}", r.body);
    for to in ["approved", "in_force"] {
        let r = a_page.post_form(&move_path, &[("csrf", &csrf), ("to", to)]).await;
        assert_eq!(r.status, 303, "{to}: {}", r.body);
    }
    assert_eq!(a.get(&format!("/api/v1/plans/{id}")).await.json()["plan"]["state"], "in_force");
    // In force, the lines are no longer edited.
    let lines =
        json!({ "lines": [{ "village_code": village, "kind": "rove", "practitioner_id": "PA1", "days": "Mon" }] });
    let r =
        a.send("PUT", &format!("/api/v1/plans/{id}/lines"), Some(("application/json", lines.to_string())), &[]).await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Before any visit: one due today, none made.
    let p = a_page.get(&page_path).await;
    assert_eq!(&village_row(&p.body, village)[1..3], ["1", "0"], "{}", p.body);

    // The village doctor records today's visit with the line's form.
    let mut d_page = srv.login("doctor_a").await;
    let p = d_page.get(&page_path).await;
    assert!(p.body.contains(&format!("action=\"/plans/{id}/visits\"")), "{}", p.body);
    let d_csrf = d_page.csrf().await;
    let visit_path = format!("/plans/{id}/visits");
    let today_s = today.to_string();
    let form = [("csrf", d_csrf.as_str()), ("village_code", village), ("practitioner_id", "PA1"), ("date", &today_s)];
    assert_eq!(d_page.post_form(&visit_path, &form[1..]).await.status, 403, "without the token");
    let r = d_page.post_form(&visit_path, &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A viewer records nothing.
    let r = v_page.post_form(&visit_path, &[("csrf", &v_csrf), ("village_code", village), ("date", &today_s)]).await;
    assert_eq!(r.status, 403);

    // Planned against done: on the page, in the API, in the indicator.
    let p = a_page.get(&page_path).await;
    assert_eq!(&village_row(&p.body, village)[1..4], ["1", "1", "100.0%"], "{}", p.body);
    assert!(p.body.contains(&format!("<td>{today_s}</td>")), "the visit is listed: {}", p.body);
    let detail = a.get(&format!("/api/v1/plans/{id}")).await.json();
    assert_eq!((detail["lines"][0]["due"].clone(), detail["lines"][0]["made"].clone()), (json!(1), json!(1)));
    assert_eq!(detail["visits"][0]["recorded_by"], "doctor_a");
    let ind = a.get(&format!("/api/v1/plans/indicator?from={year}-01-01&to={today_s}")).await;
    assert_eq!(ind.status, 200, "{}", ind.body);
    let county = ind.json()["items"].as_array().unwrap().iter().find(|x| x["level"] == "county").cloned().unwrap();
    assert_eq!(
        (county["region_code"].clone(), county["due"].clone(), county["made"].clone()),
        (json!("341122"), json!(1), json!(1))
    );
    assert_eq!(county["share"], json!(1.0));
    assert_eq!(a.get("/api/v1/plans/indicator?from=nope").await.status, 400);

    // The coverage page offers to keep its plan; saved, a new version.
    let cov = a_page.get("/coverage").await;
    assert!(cov.body.contains("save-plan-form"), "{}", cov.body);
    // And its tours, with both bounds and their gaps.
    assert!(cov.body.contains("巡诊路线") || cov.body.contains("Roving tours"), "{}", cov.body);
    assert!(cov.body.contains("上界") || cov.body.contains("upper bound"), "{}", cov.body);
    assert!(!srv.login("viewer_a").await.get("/coverage").await.body.contains("save-plan-form"));
    let r = a_page
        .post_form(
            "/plans",
            &[
                ("csrf", &csrf),
                ("region_code", "341122"),
                ("period_start", &format!("{year}-01-01")),
                ("period_end", &format!("{year}-12-31")),
                ("as_of", &today_s),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let plans = a.get("/api/v1/plans").await.json()["items"].clone();
    let states: Vec<(i64, String)> = plans
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["version"].as_i64().unwrap(), p["state"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(states, [(2, "draft".to_string()), (1, "in_force".to_string())]);

    // The saved plan keeps the planner's tours and bounds: the API and the
    // plan page give the gaps the coverage page gave.
    let v2 = plans[0]["id"].as_i64().unwrap();
    let detail = a.get(&format!("/api/v1/plans/{v2}")).await.json();
    let tours = &detail["tours"];
    assert!(tours.is_object(), "{detail}");
    let pop_gap = tours["population_gap"].as_f64().unwrap();
    let travel_gap = tours["travel_gap"].as_f64().unwrap();
    assert!(tours["covered_population"].as_u64().unwrap() <= tours["population_bound"].as_u64().unwrap());
    assert_eq!(tours["items"].as_array().unwrap().len() as u64 > 0, tours["toured_villages"].as_u64().unwrap() > 0);
    for t in tours["items"].as_array().unwrap() {
        assert!(!t["village_codes"].as_array().unwrap().is_empty(), "{t}");
        assert!(t["village_codes"][0].as_str().unwrap().starts_with("341122"), "{t}");
    }
    let weekly = &detail["population"];
    assert!(weekly["covered"].as_u64().unwrap() <= weekly["bound"].as_u64().unwrap(), "{detail}");
    let gaps = [format!("{:.2}%", pop_gap * 100.0), format!("{:.2}%", travel_gap * 100.0)];
    let weekly_gap = format!("{:.2}%", weekly["gap"].as_f64().unwrap() * 100.0);
    for body in [&cov.body, &a_page.get(&format!("/plans/{v2}")).await.body] {
        for g in gaps.iter().chain([&weekly_gap]) {
            assert!(body.contains(g.as_str()), "{g} on the page: {body}");
        }
    }
    let p = a_page.get(&format!("/plans/{v2}")).await;
    assert!(p.body.contains("id=\"plan-tours-gap\"") && p.body.contains("id=\"plan-population-gap\""), "{}", p.body);
    assert!(p.body.contains("id=\"plan-tours\""), "{}", p.body);
    // The plan by hand has no bound, and says so; both gaps are listed.
    let p = a_page.get(&page_path).await;
    assert!(p.body.contains("id=\"plan-population-gap\"") && !p.body.contains("plan-tours-gap"), "{}", p.body);
    assert!(a.get(&page_path.replace("/plans", "/api/v1/plans")).await.json()["population"].is_null());
    let listed = a_page.get("/plans").await;
    assert!(listed.body.contains(&weekly_gap), "{}", listed.body);

    // Audited, with who did it.
    let audit = srv.state.app.audit_log(200).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "plan_moved" && e.username == "officer_a").count(), 2);
    assert!(audit.iter().any(|e| e.action == "plan_visits_recorded" && e.username == "doctor_a"));
}
