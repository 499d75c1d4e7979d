//! The OpenAPI document says what the server does (issue 20, item 11): it states
//! the limits the handlers enforce, a value outside one answers 4xx in the error
//! shape, every error under `/api/` is JSON (the router's own answers included: an
//! unknown route, a method the route lacks, a path that does not decode, bad JSON,
//! a bad query), a body over the limit answers 413, and what a void answers (its
//! differences are negative) validates against the schema.

mod common;

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use web::access::Role;

/// The server with an administrator, its API token and the document.
async fn setup() -> (Server, Fixture, String, Value) {
    let (srv, fx) = start_filled(Kind::Memory).await;
    srv.user("admin", Role::Administrator, "").await;
    let mut admin = srv.login("admin").await;
    let csrf = admin.csrf().await;
    let r = admin.post_form("/users/token", &[("name", "schema"), ("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let i = r.body.find("id=\"new-token\">").unwrap() + 15;
    let token = r.body[i..i + 64].to_string();
    let doc = srv.client().get("/api/v1/openapi.json").await.json();
    (srv, fx, token, doc)
}

fn bearer(srv: &Server, token: &str) -> Client {
    let mut c = srv.client();
    c.bearer = Some(token.to_string());
    c
}

/// A schema with its `$ref` followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(doc, &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]),
        None => schema,
    }
}

/// Every operation: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

/// The answer is an error in the project's shape: JSON, a code the document
/// lists, a message in words.
fn assert_json_error(doc: &Value, what: &str, r: &Resp) {
    assert!(r.status >= 400, "{what}: answered {}", r.status);
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("application/json"), "{what}: {} answered {ct:?}: {}", r.status, r.body);
    let j: Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", r.body));
    let kinds = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"].as_array().unwrap();
    assert!(kinds.contains(&j["error"]), "{what}: error code {} not in the document's list", j["error"]);
    assert!(j["message"].as_str().is_some_and(|m| m.len() > 5), "{what}: no message in words: {}", r.body);
}

// ------------------------------------------------------------ a small validator

/// Whether `v` is valid against `schema` (the subset of OpenAPI 3.0 the document
/// uses: type, nullable, enum, pattern, minimum/maximum, minLength/maxLength,
/// minItems/maxItems, required, properties, additionalProperties false, items,
/// allOf, anyOf, oneOf, $ref). The reason when not.
fn validate(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let s = resolve(doc, schema);
    if v.is_null() {
        return if s["nullable"] == true || s.as_object().is_some_and(|o| o.is_empty()) {
            Ok(())
        } else {
            Err(format!("{at}: null where the schema does not allow it"))
        };
    }
    if let Some(all) = s["allOf"].as_array() {
        for sub in all {
            validate(doc, sub, v, at)?;
        }
    }
    if let Some(any) = s["anyOf"].as_array() {
        if !any.iter().any(|sub| validate(doc, sub, v, at).is_ok()) {
            return Err(format!("{at}: {v} matches none of the anyOf schemas"));
        }
    }
    if let Some(one) = s["oneOf"].as_array() {
        let n = one.iter().filter(|sub| validate(doc, sub, v, at).is_ok()).count();
        if n != 1 {
            return Err(format!("{at}: {v} matches {n} of the oneOf schemas"));
        }
    }
    let ok_type = match s["type"].as_str() {
        None => true,
        Some("string") => v.is_string(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("boolean") => v.is_boolean(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        Some(t) => panic!("unknown type {t}"),
    };
    if !ok_type {
        return Err(format!("{at}: {v} is not of type {}", s["type"]));
    }
    if let Some(e) = s["enum"].as_array() {
        if !e.contains(v) {
            return Err(format!("{at}: {v} is not one of {}", s["enum"]));
        }
    }
    if let Some(t) = v.as_str() {
        let n = t.chars().count() as u64;
        if s["minLength"].as_u64().is_some_and(|m| n < m) || s["maxLength"].as_u64().is_some_and(|m| n > m) {
            return Err(format!("{at}: {v} has {n} characters, outside the schema's length"));
        }
        if s["format"] == "date" && chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_err() {
            return Err(format!("{at}: {v} is not a date"));
        }
        if let Some(p) = s["pattern"].as_str() {
            if !matches(p, t) {
                return Err(format!("{at}: {v} does not match {p}"));
            }
        }
    }
    if let Some(x) = v.as_f64() {
        if s["minimum"].as_f64().is_some_and(|m| x < m) || s["maximum"].as_f64().is_some_and(|m| x > m) {
            return Err(format!("{at}: {v} is outside {}..{}", s["minimum"], s["maximum"]));
        }
    }
    if let Some(items) = v.as_array() {
        let n = items.len() as u64;
        if s["minItems"].as_u64().is_some_and(|m| n < m) || s["maxItems"].as_u64().is_some_and(|m| n > m) {
            return Err(format!("{at}: {n} items, outside the schema's count"));
        }
        for (i, item) in items.iter().enumerate() {
            validate(doc, &s["items"], item, &format!("{at}[{i}]"))?;
        }
    }
    if let Some(o) = v.as_object() {
        for r in s["required"].as_array().into_iter().flatten() {
            if !o.contains_key(r.as_str().unwrap()) {
                return Err(format!("{at}: the required property {r} is missing"));
            }
        }
        for (k, x) in o {
            match s["properties"].get(k) {
                Some(p) => validate(doc, p, x, &format!("{at}.{k}"))?,
                None if s["additionalProperties"] == false => return Err(format!("{at}: unknown property {k}")),
                None => {}
            }
        }
    }
    Ok(())
}

/// A regular expression of the forms the document uses: `^`, `$`, literals,
/// `\.`, `\s`, classes `[0-9a-f]`, and `?`, `*`, `+`, `{n}`, `{n,m}`.
fn matches(pattern: &str, text: &str) -> bool {
    #[derive(Debug)]
    enum Atom {
        Lit(char),
        Class(Vec<(char, char)>),
        Space,
    }
    let p: Vec<char> = pattern.chars().collect();
    let (mut i, mut atoms) = (0, Vec::<(Atom, usize, usize)>::new());
    assert!(p.first() == Some(&'^') && p.last() == Some(&'$'), "anchored patterns only: {pattern}");
    let end = p.len() - 1;
    i += 1;
    while i < end {
        let atom = match p[i] {
            '\\' => {
                i += 2;
                if p[i - 1] == 's' {
                    Atom::Space
                } else {
                    Atom::Lit(p[i - 1])
                }
            }
            '[' => {
                let mut ranges = vec![];
                i += 1;
                while p[i] != ']' {
                    if p[i + 1] == '-' && p[i + 2] != ']' {
                        ranges.push((p[i], p[i + 2]));
                        i += 3;
                    } else {
                        ranges.push((p[i], p[i]));
                        i += 1;
                    }
                }
                i += 1;
                Atom::Class(ranges)
            }
            c => {
                assert!(!"()|.".contains(c), "unsupported pattern {pattern}");
                i += 1;
                Atom::Lit(c)
            }
        };
        let (lo, hi) = match p.get(i) {
            Some('?') if i < end => (0, 1),
            Some('*') if i < end => (0, usize::MAX),
            Some('+') if i < end => (1, usize::MAX),
            Some('{') if i < end => {
                let close = (i..end).find(|&k| p[k] == '}').unwrap();
                let inner: String = p[i + 1..close].iter().collect();
                i = close;
                match inner.split_once(',') {
                    Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                    None => (inner.parse().unwrap(), inner.parse().unwrap()),
                }
            }
            _ => {
                atoms.push((atom, 1, 1));
                continue;
            }
        };
        i += 1;
        atoms.push((atom, lo, hi));
    }
    fn one(a: &Atom, c: char) -> bool {
        match a {
            Atom::Lit(l) => *l == c,
            Atom::Space => c.is_whitespace(),
            Atom::Class(r) => r.iter().any(|(a, b)| (*a..=*b).contains(&c)),
        }
    }
    fn go(atoms: &[(Atom, usize, usize)], t: &[char]) -> bool {
        let Some(((a, lo, hi), rest)) = atoms.split_first() else { return t.is_empty() };
        let mut n = 0;
        while n < *lo {
            if n >= t.len() || !one(a, t[n]) {
                return false;
            }
            n += 1;
        }
        loop {
            if go(rest, &t[n..]) {
                return true;
            }
            if n >= *hi || n >= t.len() || !one(a, t[n]) {
                return false;
            }
            n += 1;
        }
    }
    go(&atoms, &text.chars().collect::<Vec<_>>())
}

#[test]
fn the_small_validator_works() {
    assert!(matches("^[0-9]+\\.[0-9]{2}$", "1234.50"));
    assert!(!matches("^[0-9]+\\.[0-9]{2}$", "-1234.50"));
    assert!(matches("^-?[0-9]+\\.[0-9]{2}$", "-1234.50"));
    assert!(!matches("^-?[0-9]+\\.[0-9]{2}$", "1234.5"));
    assert!(matches("^[0-9a-fA-F]{16}$", "0123456789abcDEF"));
    assert!(!matches("^[0-9a-fA-F]{16}$", "0123456789abcDEF0"));
    assert!(matches("^\\s*$", "") && matches("^\\s*$", " \t") && !matches("^\\s*$", " x"));
}

// ------------------------------------------------------------ the tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_declares_the_limits_the_server_enforces() {
    let (_srv, _fx, _token, doc) = setup().await;
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    let mut limits = 0;
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            // A year may also be blank: its bounds are those of the first choice.
            let s = p["schema"].get("anyOf").map_or(&p["schema"], |a| &a[0]);
            match (p["in"].as_str().unwrap(), p["name"].as_str().unwrap()) {
                ("query", "limit") => {
                    limits += 1;
                    assert_eq!(
                        (s["minimum"].as_i64(), s["maximum"].as_i64()),
                        (Some(1), Some(1000)),
                        "{method} {path}"
                    );
                }
                ("query", "year") if path == "/reports" => {
                    // The years whose indicators are kept: 2000 to next year.
                    use chrono::Datelike;
                    let next = chrono::Utc::now().year() as i64 + 1;
                    assert_eq!(
                        (s["minimum"].as_i64(), s["maximum"].as_i64()),
                        (Some(2000), Some(next)),
                        "{method} {path}"
                    )
                }
                ("query", "year") => {
                    assert_eq!(
                        (s["minimum"].as_i64(), s["maximum"].as_i64()),
                        (Some(1990), Some(2100)),
                        "{method} {path}"
                    )
                }
                ("path", "id") if path.starts_with("/alerts/") || path.starts_with("/cases/") => {
                    assert_eq!(
                        (s["type"].as_str(), s["minimum"].as_i64()),
                        (Some("integer"), Some(1)),
                        "{method} {path}"
                    )
                }
                ("path", "id") if path.starts_with("/claims/") || path.starts_with("/households/") => {
                    assert_eq!(
                        (s["minLength"].as_i64(), s["maxLength"].as_i64()),
                        (Some(1), Some(64)),
                        "{method} {path}"
                    )
                }
                _ => {}
            }
        }
        if op.get("requestBody").is_some() {
            assert!(op["responses"]["413"].is_object(), "{method} {path} takes a body but does not list 413");
        }
    }
    assert_eq!(limits, 10, "every listing has its limit");
    let claim = schema("ClaimRequest");
    assert_eq!(claim["properties"]["claim_id"]["minLength"], 1);
    assert_eq!(claim["properties"]["claim_id"]["maxLength"], 64);
    assert_eq!(schema("CaseDeadlineRequest")["properties"]["verify_days"]["minimum"], 1);
    assert_eq!(schema("CaseDeadlineRequest")["properties"]["verify_days"]["maximum"], 365);
    assert_eq!(schema("WhatIfRequest")["properties"]["year"]["minimum"], 1990);
    assert_eq!(schema("CatalogueEntryRequest")["properties"]["since"]["maximum"], 2100);
    assert_eq!(schema("CatalogueEntryRequest")["properties"]["icd10_prefixes"]["maxItems"], 100);
    for name in ["AssignRequest", "VerifyRequest", "CaseMeasureRequest", "CloseRequest"] {
        assert_eq!(schema(name)["properties"]["version"]["minimum"], 1, "{name}");
    }
    assert_eq!(schema("VisitRequest")["properties"]["case_id"]["minimum"], 1);
    // Differences are signed; amounts paid are not.
    let diff = &schema("VoidResult")["properties"]["differences"]["items"]["properties"];
    assert_eq!(diff["out_of_pocket"]["$ref"], "#/components/schemas/SignedMoney");
    assert_eq!(
        resolve(&doc, &diff["payments"]["items"])["properties"]["amount"]["$ref"],
        "#/components/schemas/SignedMoney"
    );
    assert!(matches(schema("SignedMoney")["pattern"].as_str().unwrap(), "-42287.50"));
    assert!(!matches(schema("Money")["pattern"].as_str().unwrap(), "-42287.50"));
    let kinds = &schema("Error")["properties"]["error"]["enum"];
    for k in ["method_not_allowed", "payload_too_large", "not_found", "bad_request"] {
        assert!(kinds.as_array().unwrap().iter().any(|x| x == k), "{k} missing from {kinds}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_values_answer_4xx_json_and_the_bounds_are_taken() {
    let (srv, fx, token, doc) = setup().await;
    let mut c = bearer(&srv, &token);
    // Every bounded query parameter of every listing and report, read from the
    // document: the bounds are taken, one step beyond them is a 4xx in JSON.
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        if method != "GET" {
            continue;
        }
        let path = path.replace("{id}", "HA1");
        if path.contains('{') {
            continue;
        }
        for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query") {
            let s = p["schema"].get("anyOf").map_or(&p["schema"], |a| &a[0]);
            let (Some(lo), Some(hi)) = (s["minimum"].as_i64(), s["maximum"].as_i64()) else {
                continue;
            };
            let name = p["name"].as_str().unwrap();
            for v in [lo, hi] {
                let r = c.get(&format!("/api/v1{path}?{name}={v}")).await;
                assert!(
                    r.status < 300,
                    "GET {path}?{name}={v} is within the schema but answered {}: {}",
                    r.status,
                    r.body
                );
            }
            for v in [lo - 1, hi + 1] {
                let what = format!("GET {path}?{name}={v}");
                let r = c.get(&format!("/api/v1{path}?{name}={v}")).await;
                assert!((400..500).contains(&r.status), "{what} answered {}", r.status);
                assert_json_error(&doc, &what, &r);
                checked += 1;
            }
        }
    }
    assert!(checked >= 18, "{checked} out-of-range values tried");
    // Path numbers from 1, identifiers of 1 to 64 characters.
    for path in ["/alerts/0", "/alerts/-3", "/cases/0", "/alerts/abc"] {
        let r = c.get(&format!("/api/v1{path}")).await;
        assert_eq!(r.status, 400, "GET {path}: {}", r.body);
        assert_json_error(&doc, path, &r);
    }
    let long = "H".repeat(65);
    for path in [format!("/households/{long}"), format!("/households/{long}/visits"), "/households/%20".to_string()] {
        let r = c.get(&format!("/api/v1{path}")).await;
        assert_eq!(r.status, 400, "GET {path}: {}", r.body);
        assert_json_error(&doc, &path, &r);
    }
    let r = c.get(&format!("/api/v1/households/{}", "H".repeat(64))).await;
    assert_eq!(r.status, 404, "64 characters are an identifier, of no household here");
    for path in ["/claims/%20/void".to_string(), format!("/claims/{long}/void")] {
        let r = c.post_json(&format!("/api/v1{path}"), "{}").await;
        assert_eq!(r.status, 400, "POST {path}: {}", r.body);
        assert_json_error(&doc, &path, &r);
    }
    // Bodies: one value beyond a bound, the rest right.
    let cases: Vec<(&str, &str, Value, u16)> = vec![
        ("PUT", "/case-deadlines/341122", json!({ "verify_days": 0 }), 400),
        ("PUT", "/case-deadlines/341122", json!({ "verify_days": 366 }), 400),
        ("PUT", "/case-deadlines/341122", json!({ "verify_days": 365 }), 200),
        ("POST", "/whatif", json!({ "year": 1989, "policy_toml": "x" }), 422),
        ("POST", "/whatif", json!({ "year": 2101, "policy_toml": "x" }), 422),
        ("POST", "/whatif", json!({ "year": 2024, "policy_toml": "" }), 422),
        (
            "POST",
            "/catalogues/serious",
            json!({ "region": "341122", "name_zh": "病", "name_en": "x", "icd10_prefixes": ["C16"], "since": 1989 }),
            400,
        ),
        (
            "POST",
            "/catalogues/serious",
            json!({ "region": "341122", "name_zh": "病", "name_en": "x", "icd10_prefixes": [] }),
            400,
        ),
        ("POST", "/cases", json!({ "household_id": long }), 400),
        ("POST", "/cases", json!({ "household_id": "" }), 400),
        ("POST", "/cases/1/assign", json!({ "version": 0, "assignee": "x" }), 400),
        (
            "POST",
            "/visits",
            json!({ "household_id": "HA1", "kind": "household", "date": "2024-01-02", "visitors": "x", "case_id": 0 }),
            400,
        ),
        (
            "POST",
            "/settlements",
            json!({ "claim_id": "", "person_id": fx.a_person, "facility_level": "county", "kind": "inpatient", "facility_id": "FA1",
                    "admitted": "2024-03-10", "discharged": "2024-03-10", "total_cost": "1.00", "eligible_cost": "1.00" }),
            422,
        ),
    ];
    for (method, path, body, want) in cases {
        let r = c.send(method, &format!("/api/v1{path}"), Some(("application/json", body.to_string())), &[]).await;
        let what = format!("{method} {path} {body}");
        assert_eq!(r.status, want, "{what}: {}", r.body);
        if want >= 400 {
            assert_json_error(&doc, &what, &r);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_under_the_api_is_json() {
    let (srv, fx, token, doc) = setup().await;
    let mut c = bearer(&srv, &token);
    let get = |p: &str| ("GET".to_string(), p.to_string(), None::<(&str, String)>);
    let calls = vec![
        // Routes that do not exist.
        get("/api/v1/nope"),
        get("/api/v2/persons"),
        get(&format!("/api/v1/persons/{}/extra", fx.a_person)),
        // Methods the route lacks.
        ("DELETE".into(), "/api/v1/persons".into(), None),
        ("POST".into(), format!("/api/v1/persons/{}", fx.a_person), Some(("application/json", "{}".into()))),
        get("/api/v1/settlements"),
        ("PUT".into(), "/api/v1/openapi.json".into(), None),
        // Path parameters that do not decode as text.
        get("/api/v1/persons/%FF"),
        get("/api/v1/alerts/%FF%FE"),
        get("/api/v1/households/%C3"),
        // Bad JSON, not JSON, a wrong shape, no content type.
        ("POST".into(), "/api/v1/settlements".into(), Some(("application/json", "{".into()))),
        ("POST".into(), "/api/v1/settlements".into(), Some(("application/json", "[1, 2]".into()))),
        ("POST".into(), "/api/v1/settlements".into(), Some(("text/plain", "claim".into()))),
        ("POST".into(), "/api/v1/whatif".into(), Some(("application/json", "{\"year\": \"x\"}".into()))),
        // Bad queries.
        get("/api/v1/persons?limit=abc"),
        get("/api/v1/persons?limit=-1"),
        get("/api/v1/persons?nope=1"),
        get("/api/v1/alerts?limit=1.5"),
        get("/api/v1/cases?open=maybe"),
        get("/api/v1/reports?year=abc"),
        get("/api/v1/ledger?year=1&format=csv"),
    ];
    for (method, path, body) in calls {
        let r = c.send(&method, &path, body.clone(), &[]).await;
        let what = format!("{method} {path} {body:?}");
        assert!((400..500).contains(&r.status), "{what} answered {}: {}", r.status, r.body);
        assert_json_error(&doc, &what, &r);
        if r.status == 405 {
            assert!(r.header("allow").is_some(), "{what}: a 405 says what is allowed");
            assert_eq!(r.json()["error"], "method_not_allowed");
        }
    }
    // Without a token, and with a wrong one.
    for bearer in [None, Some("0".repeat(64))] {
        let mut c = srv.client();
        c.bearer = bearer;
        let r = c.get("/api/v1/persons").await;
        assert_eq!(r.status, 401);
        assert_json_error(&doc, "no token", &r);
    }
    // Pages keep their HTML errors.
    let r = srv.client().get("/no-such-page").await;
    assert_eq!(r.status, 404);
    assert!(r.header("content-type").unwrap_or("").starts_with("text/html"), "{:?}", r.headers);
}

/// A request sent as it is, body and all (chunked where asked).
async fn raw(srv: &Server, head: &str, body: &[u8]) -> Resp {
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer before the body is all sent.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let (h, b) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = h.split(' ').nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
    let headers = h
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp { status, headers, body: b.to_string() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_body_answers_413_in_json() {
    let (srv, _fx, token, doc) = setup().await;
    let big = format!("{{\"claim_id\": \"{}\"}}", "x".repeat(web::BODY_LIMIT));
    // With a token: the JSON extractor's limit.
    let r = bearer(&srv, &token).post_json("/api/v1/settlements", &big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_json_error(&doc, "token, oversize", &r);
    assert_eq!(r.json()["error"], "payload_too_large");
    // On a session: the CSRF check reads the body first, with the same limit.
    let mut s = srv.login("admin").await;
    s.csrf_header = Some(s.csrf().await);
    let r = s.post_json("/api/v1/settlements", &big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_json_error(&doc, "session, oversize", &r);
    // A body without a length (chunked) that runs past the limit.
    let cookies = s.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let head = format!(
        "POST /api/v1/settlements HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {cookies}\r\nX-CSRF-Token: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        s.csrf_header.clone().unwrap()
    );
    let mut body = Vec::new();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..(web::BODY_LIMIT / chunk.len() + 2) {
        body.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend(&chunk);
        body.extend(b"\r\n");
    }
    body.extend(b"0\r\n\r\n");
    let r = raw(&srv, &head, &body).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("payload_too_large"), "{}", r.body);
    // A body just within the limit is read (and refused for what it says).
    let fits = format!("{{\"claim_id\": \"{}\"}}", "x".repeat(web::BODY_LIMIT - 100));
    let r = bearer(&srv, &token).post_json("/api/v1/settlements", &fits).await;
    assert!(r.status == 400 || r.status == 422, "{}: {}", r.status, &r.body[..r.body.len().min(200)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voids_answer_validates_against_the_schema() {
    let (srv, fx, token, doc) = setup().await;
    let mut c = bearer(&srv, &token);
    let claim = |id: &str, day: &str, total: &str| {
        json!({ "claim_id": id, "person_id": fx.a_person, "facility_level": "county", "kind": "inpatient", "facility_id": "FA1",
                "admitted": day, "discharged": day, "total_cost": total, "eligible_cost": total, "diagnosis": "C16" })
    };
    let schemas = &doc["components"]["schemas"];
    for (id, day, total) in [("S1", "2024-03-10", "60000.00"), ("S2", "2024-06-01", "20000.00")] {
        let r = c.post_json("/api/v1/settlements", &claim(id, day, total).to_string()).await;
        assert_eq!(r.status, 201, "{}", r.body);
        validate(&doc, &schemas["Settlement"], &r.json(), "Settlement").unwrap();
    }
    let r = c.post_json("/api/v1/claims/S1/void?facility=FA1", "{}").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let refund = &v["differences"].as_array().unwrap().iter().find(|d| d["claim_id"] == "S1").unwrap()["payments"][0];
    assert!(refund["amount"].as_str().unwrap().starts_with('-'), "the voided claim is refunded: {refund}");
    let op = &doc["paths"]["/claims/{id}/void"]["post"]["responses"]["200"]["content"]["application/json"]["schema"];
    validate(&doc, op, &v, "VoidResult").unwrap();
    // The validator is not lenient: a negative amount is no Money.
    let mut wrong = schemas["VoidResult"].clone();
    wrong["properties"]["differences"]["items"]["properties"]["out_of_pocket"] =
        json!({ "$ref": "#/components/schemas/Money" });
    let negative =
        v["differences"].as_array().unwrap().iter().any(|d| d["out_of_pocket"].as_str().unwrap().starts_with('-'));
    assert_eq!(validate(&doc, &wrong, &v, "VoidResult").is_err(), negative);
    // The person's record, with its claims (the voided one unsettled), too.
    let r = c.get(&format!("/api/v1/persons/{}", fx.a_person)).await;
    validate(&doc, &schemas["PersonRecord"], &r.json(), "PersonRecord").unwrap();
    let r = c.get("/api/v1/households/HA1").await;
    validate(&doc, &schemas["HouseholdRecord"], &r.json(), "HouseholdRecord").unwrap();
}

/// Found by the schema-driven run (bench/api_schema.sh, issue 20): the handlers
/// read an optional field sent as null as absent, and an optional day sent blank
/// as none, where the document allowed neither, so schemathesis saw "invalid"
/// requests accepted. The document now declares them (nullable; a day or blank),
/// and every such request validates against it and is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_fields_sent_as_null_or_blank_are_accepted_as_the_document_says() {
    let (srv, _fx, token, doc) = setup().await;
    let schemas = &doc["components"]["schemas"];
    let mut c = bearer(&srv, &token);
    let yesterday = (chrono::Local::now().date_naive() - chrono::Duration::days(1)).to_string();
    let r = c.post_json("/api/v1/cases", &json!({ "household_id": "HA1" }).to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let verify = |version: i64, next_date: Value| json!({ "version": version, "date": yesterday, "visitors": "王医生", "findings": "bills", "monitored": true, "next_date": next_date });
    // Each request: its method, path, the schema of its body, the body.
    let steps = [
        (
            "POST",
            format!("/cases/{id}/assign"),
            "AssignRequest",
            json!({ "version": 1, "assignee": "admin", "due": null }),
        ),
        (
            "POST",
            format!("/cases/{id}/assign"),
            "AssignRequest",
            json!({ "version": 2, "assignee": "admin", "due": " " }),
        ),
        ("POST", format!("/cases/{id}/verify"), "VerifyRequest", verify(3, Value::Null)),
        ("POST", format!("/cases/{id}/verify"), "VerifyRequest", verify(4, json!(""))),
        (
            "POST",
            "/visits".into(),
            "VisitRequest",
            json!({ "household_id": "HA1", "kind": "household", "date": yesterday, "visitors": "王医生",
                    "person_id": null, "next_date": "", "case_id": null }),
        ),
        (
            "POST",
            "/catalogues/serious".into(),
            "CatalogueEntryRequest",
            json!({ "region": "341122", "name_zh": "胃癌", "name_en": "", "icd10_prefixes": ["C16"], "since": null }),
        ),
        (
            "PUT",
            "/targets".into(),
            "SetTargetRequest",
            json!({ "indicator": "poor_out_of_pocket_share", "region": "341122", "year": null,
                    "direction": "at_most", "value": 10.0, "tolerance": null }),
        ),
    ];
    for (method, path, schema, body) in steps {
        validate(&doc, &schemas[schema], &body, schema)
            .unwrap_or_else(|e| panic!("{path}: the document refuses {body}: {e}"));
        let r = c.send(method, &format!("/api/v1{path}"), Some(("application/json", body.to_string())), &[]).await;
        assert!(r.status == 200 || r.status == 201, "{method} {path} {body}: {} {}", r.status, r.body);
    }
    // A token made from a session with its role, scope and days null: the caller's, 90 days.
    let mut admin = srv.login("admin").await;
    admin.csrf_header = Some(admin.csrf().await);
    let body = json!({ "name": "nulls", "role": null, "scope": null, "expires_in_days": null });
    validate(&doc, &schemas["CreateTokenRequest"], &body, "CreateTokenRequest").unwrap();
    let r = admin.post_json("/api/v1/tokens", &body.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["token"]["role"], "administrator");
    // The validator is not lenient: a day that is neither a date nor blank, or a
    // number where text goes, is refused by the document, and by the server.
    for bad in [json!("tomorrow"), json!(5)] {
        let body = verify(5, bad.clone());
        assert!(validate(&doc, &schemas["VerifyRequest"], &body, "VerifyRequest").is_err(), "{bad}");
        let r = c.post_json(&format!("/api/v1/cases/{id}/verify"), &body.to_string()).await;
        assert_json_error(&doc, &format!("next_date {bad}"), &r);
        assert!(r.status < 500, "{}", r.body);
    }
}

/// Found by the schema-driven run: `year=` (blank, as a form left empty sends
/// it) takes the default year on the ledger and the report, where the document
/// allowed only a number. The document now says so; a year that is not a
/// number is still a 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_year_takes_the_default_as_the_document_says() {
    let (srv, _fx, token, doc) = setup().await;
    let mut c = bearer(&srv, &token);
    for path in ["/ledger", "/reports"] {
        let s =
            &doc["paths"][path]["get"]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "year").unwrap()
                ["schema"];
        assert!(validate(&doc, s, &json!(""), "year").is_ok(), "{path}: a blank year is declared");
        assert!(validate(&doc, s, &json!("x"), "year").is_err(), "{path}: text is not");
        let blank = c.get(&format!("/api/v1{path}?year=")).await;
        let absent = c.get(&format!("/api/v1{path}")).await;
        assert_eq!((blank.status, absent.status), (200, 200), "{path}: {} {}", blank.body, absent.body);
        assert_eq!(blank.json()["year"], absent.json()["year"], "{path}");
        assert_json_error(&doc, path, &c.get(&format!("/api/v1{path}?year=x")).await);
    }
}
