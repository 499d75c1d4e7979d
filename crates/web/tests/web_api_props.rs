//! Property-based API testing driven by the served OpenAPI document: every
//! documented operation is called with generated path parameters, query strings
//! and bodies (well-formed, ill-typed, incomplete, with unknown fields, or not JSON
//! at all). Whatever comes in, the server must answer with a status the document
//! lists for that operation, never a 5xx, and every error must be JSON with an
//! `error` code and a `message` in words.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use web::access::Role;

/// One documented operation.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    path: String,
    /// Name, type, and the bounds of an integer (with one step beyond each).
    query: Vec<(String, String, Vec<i64>)>,
    body: Option<Value>,
    responses: Value,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let query = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| {
                            // A year may also be blank; its number is the first choice.
                            let s = p["schema"].get("anyOf").map_or(&p["schema"], |a| &a[0]);
                            let ty: String = s["type"].as_str().unwrap().into();
                            (p["name"].as_str().unwrap().to_string(), ty, bounds(s))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body = op["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|_| resolve(doc, &op["requestBody"]["content"]["application/json"]["schema"]).clone());
            out.push(Operation {
                method: method.clone(),
                path: path.clone(),
                query,
                body,
                responses: op["responses"].clone(),
            });
        }
    }
    out.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    out
}

/// A schema with its `$ref` followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Text that stresses parsers: empty, long, signs, unicode, SQL and path characters.
fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("9223372036854775808".to_string()),
        Just("1e309".to_string()),
        Just("' OR 1=1 --".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("来安县".to_string()),
        Just("12.345".to_string()),
        Just("NaN".to_string()),
        "[a-zA-Z0-9 _.%-]{0,40}",
        "\\PC{0,20}",
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

/// A schema's integer bounds and one step beyond each (or 0 and 1 without).
fn bounds(s: &Value) -> Vec<i64> {
    let mut out = vec![0, 1];
    for (b, step) in [("minimum", -1), ("maximum", 1)] {
        if let Some(n) = s[b].as_i64() {
            out.extend([n, n + step]);
        }
    }
    out
}

/// A JSON value of any shape, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        nasty_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A plausible value for a property of the given schema: sometimes right,
/// sometimes of the wrong type.
fn value_for(doc: &Value, schema: &Value) -> BoxedStrategy<Value> {
    let s = resolve(doc, schema).clone();
    let right: BoxedStrategy<Value> = match s["type"].as_str() {
        // Values at and one step beyond the bounds the document declares, too.
        Some("integer") => prop_oneof![
            any::<i32>().prop_map(|n| json!(n)),
            (0i64..10).prop_map(|n| json!(n)),
            prop::sample::select(bounds(&s)).prop_map(|n| json!(n))
        ]
        .boxed(),
        Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
        Some("string") if s["format"] == "date" => prop_oneof![
            Just(json!("2024-03-10")),
            Just(json!("2024-02-30")),
            Just(json!("1899-01-01")),
            nasty_text().prop_map(Value::String)
        ]
        .boxed(),
        Some("string") if s["pattern"].is_string() => prop_oneof![
            (0u64..10_000_000, 0u64..100).prop_map(|(y, f)| json!(format!("{y}.{f:02}"))),
            Just(json!("-5.00")),
            Just(json!("1.234")),
            nasty_text().prop_map(Value::String)
        ]
        .boxed(),
        Some("string") => {
            if let Some(options) = s["enum"].as_array() {
                let options = options.clone();
                prop_oneof![prop::sample::select(options), nasty_text().prop_map(Value::String)].boxed()
            } else {
                prop_oneof![
                    Just(json!("inpatient")),
                    Just(json!("county")),
                    Just(json!("verifying")),
                    Just(json!("resolved")),
                    Just(json!("dismissed")),
                    nasty_text().prop_map(Value::String)
                ]
                .boxed()
            }
        }
        _ => any_json().boxed(),
    };
    prop_oneof![4 => right, 1 => any_json()].boxed()
}

/// A body for an operation: built from its schema (with fields dropped or added),
/// any JSON at all, or text that is not JSON.
fn body_for(doc: &Value, schema: &Value) -> BoxedStrategy<String> {
    let props: Vec<(String, Value)> = schema["properties"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let fields: Vec<BoxedStrategy<(String, Option<Value>)>> = props
        .into_iter()
        .map(|(k, v)| {
            let k2 = k.clone();
            prop_oneof![5 => value_for(doc, &v).prop_map(move |x| (k.clone(), Some(x))), 1 => Just((k2, None))].boxed()
        })
        .collect();
    let from_schema = (fields, prop::option::of(("[a-z]{1,8}", any_json()))).prop_map(|(fs, extra)| {
        let mut m = serde_json::Map::new();
        for (k, v) in fs {
            if let Some(v) = v {
                m.insert(k, v);
            }
        }
        if let Some((k, v)) = extra {
            m.insert(k, v);
        }
        Value::Object(m).to_string()
    });
    prop_oneof![
        6 => from_schema,
        2 => any_json().prop_map(|v| v.to_string()),
        1 => "\\PC{0,30}",
        1 => Just("{\"to\": ".to_string()),
    ]
    .boxed()
}

/// One generated request.
#[derive(Debug, Clone)]
struct Call {
    op: usize,
    id: String,
    query: Vec<(String, String)>,
    body: Option<String>,
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn call_strategy(doc: &Value, ops: &[Operation], fx: &Fixture) -> BoxedStrategy<Call> {
    let ids = vec![
        fx.a_person.clone(),
        fx.b_person.clone(),
        fx.a_alert.to_string(),
        fx.b_alert.to_string(),
        "HA1".to_string(),
        "HB1".to_string(),
        "HA1-C1".to_string(),
    ];
    let per_op: Vec<BoxedStrategy<Call>> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let id = prop_oneof![3 => prop::sample::select(ids.clone()), 2 => nasty_text()];
            let q: Vec<(String, String, Vec<i64>)> = op.query.clone();
            let query = prop::collection::vec(
                prop_oneof![
                    4 => prop::sample::select(if q.is_empty() { vec![("q".to_string(), "string".to_string(), vec![])] } else { q })
                        .prop_flat_map(|(name, ty, bounds)| {
                            let v = if ty == "integer" {
                                prop_oneof![
                                    (0i64..2000).prop_map(|n| n.to_string()),
                                    prop::sample::select(bounds).prop_map(|n| n.to_string()),
                                    nasty_text()
                                ]
                                .boxed()
                            } else {
                                nasty_text().boxed()
                            };
                            v.prop_map(move |v| (name.clone(), v))
                        }),
                    1 => ("[a-z]{1,6}", nasty_text()),
                ],
                0..3,
            );
            let body = match &op.body {
                Some(schema) => body_for(doc, schema).prop_map(Some).boxed(),
                None => Just(None).boxed(),
            };
            (id, query, body).prop_map(move |(id, query, body)| Call { op: i, id, query, body }).boxed()
        })
        .collect();
    prop::strategy::Union::new(per_op).boxed()
}

#[test]
fn any_request_to_a_documented_operation_gets_a_documented_answer() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (srv, fx, doc, token) = rt.block_on(async {
        let (srv, fx) = start_filled(Kind::Memory).await;
        srv.user("admin", Role::Administrator, "").await;
        let mut admin = srv.login("admin").await;
        let csrf = admin.csrf().await;
        let r = admin.post_form("/users/token", &[("name", "props"), ("csrf", &csrf)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let i = r.body.find("id=\"new-token\">").unwrap() + 15;
        let token = r.body[i..i + 64].to_string();
        let doc = srv.client().get("/api/v1/openapi.json").await.json();
        (srv, fx, doc, token)
    });
    let ops = operations(&doc);
    assert!(ops.len() >= 10, "the document lists {} operations", ops.len());
    let strategy = call_strategy(&doc, &ops, &fx);
    let cases = std::env::var("API_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let seen: Vec<std::sync::atomic::AtomicUsize> = ops.iter().map(|_| Default::default()).collect();
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let result = runner.run(&strategy, |call| {
        let op = &ops[call.op];
        seen[call.op].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut path = format!("/api/v1{}", op.path.replace("{id}", &percent(&call.id)));
        if !call.query.is_empty() {
            let q: Vec<String> = call.query.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))).collect();
            path.push('?');
            path.push_str(&q.join("&"));
        }
        let r = rt.block_on(async {
            let mut c = srv.client();
            c.bearer = Some(token.clone());
            let body = call.body.clone().map(|b| ("application/json", b));
            c.send(&op.method.to_uppercase(), &path, body, &[]).await
        });
        *statuses.lock().unwrap().entry(r.status).or_default() += 1;
        let what = format!("{} {path} body {:?}", op.method, call.body);
        prop_assert!(r.status < 500, "{what} answered {}: {}", r.status, r.body);
        let code = r.status.to_string();
        prop_assert!(op.responses.get(&code).is_some(), "{what} answered {code}, not documented: {}", r.body);
        let json: Value = serde_json::from_str(&r.body)
            .map_err(|e| TestCaseError::fail(format!("{what} answered {code} with no JSON ({e}): {}", r.body)))?;
        if r.status >= 400 {
            prop_assert!(json["error"].is_string(), "{what}: no error code in {}", r.body);
            let msg = json["message"].as_str().unwrap_or("");
            prop_assert!(msg.len() > 5, "{what}: no message in words: {}", r.body);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let statuses = statuses.into_inner().unwrap();
    eprintln!("answers by status: {statuses:?}");
    // Both sides were exercised: accepted requests and refused ones.
    assert!(statuses.keys().any(|s| *s < 300), "no request was accepted: {statuses:?}");
    assert!(statuses.keys().any(|s| (400..500).contains(s)), "no request was refused: {statuses:?}");
    // Every operation was exercised.
    for (op, n) in ops.iter().zip(&seen) {
        assert!(n.load(std::sync::atomic::Ordering::Relaxed) > 0, "{} {} was never called", op.method, op.path);
    }
}
