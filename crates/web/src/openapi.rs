//! The OpenAPI 3 description of `/api/v1`, written by hand as one JSON value so
//! that it says exactly what the handlers in [`crate::api`] do. A test walks the
//! router's paths against it.

use serde_json::{json, Value};

fn err() -> Value {
    json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok(schema: &str) -> Value {
    json!({ "description": "ok", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn list(schema: &str) -> Value {
    json!({ "description": "ok", "content": { "application/json": { "schema": {
        "type": "object", "required": ["items"],
        "properties": { "items": { "type": "array", "items": { "$ref": format!("#/components/schemas/{schema}") } } } } } } })
}

fn path_param(name: &str, desc: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": desc, "schema": { "type": "string" } })
}

/// A record's number in the path (an alert, a case): a whole number from 1; 0, a
/// negative number or text is a 400.
fn number_param(desc: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": desc,
            "schema": { "type": "integer", "format": "int64", "minimum": 1 } })
}

/// An identifier in the path (a household, a claim): 1 to 64 characters, no
/// control characters; else a 400.
fn key_param(desc: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": desc,
            "schema": { "type": "string", "minLength": 1, "maxLength": 64 } })
}

/// The facility of a claim named in the path: claims are keyed by facility and
/// ID. Required (a 400 without it); empty for a claim imported without a
/// facility; up to 64 characters, no control characters (else a 400).
fn facility_param() -> Value {
    json!({ "name": "facility", "in": "query", "required": true,
            "description": "the facility that submitted the claim: claim IDs are the facility's (empty for a claim imported without one). A claim of a facility outside the caller's scope is answered as an unknown one (404).",
            "schema": { "type": "string", "maxLength": 64 } })
}

fn query(name: &str, desc: &str, ty: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": ty } })
}

/// `limit` of a listing: 1 to 1000 (else a 400), 100 when absent.
fn limit() -> Value {
    json!({ "name": "limit", "in": "query", "required": false, "description": "how many at most: 1 to 1000, default 100",
            "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } })
}

/// `year` of a report or ledger, from `min` to `max`; blank (`year=`, as a form
/// left empty sends it) takes the default, as absent does.
fn year(desc: &str, min: i32, max: i32) -> Value {
    json!({ "name": "year", "in": "query", "required": false, "description": format!("{desc}; blank as absent"),
            "schema": { "anyOf": [ { "type": "integer", "minimum": min, "maximum": max }, { "type": "string", "pattern": "^\\s*$" } ] } })
}

fn errors(mut responses: Value) -> Value {
    for code in ["400", "401", "403", "404", "409", "422"] {
        responses[code] = err();
    }
    responses
}

/// Money that may be negative: a difference (new minus old), as a void reports it.
fn signed_money() -> Value {
    json!({ "type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "description": "yuan with two decimals; negative where the amount went down" })
}

/// Money, or null where there is none.
fn money_or_null(desc: &str) -> Value {
    json!({ "type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "nullable": true, "description": desc })
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> Value {
    let mut doc = base();
    for (paths, schemas) in [
        (work_paths(), work_schemas()),
        (registry_paths(), registry_schemas()),
        (admin_paths(), admin_schemas()),
        (desk_paths(), desk_schemas()),
        (enrolment_paths(), enrolment_schemas()),
        (catalogue_paths(), catalogue_schemas()),
        (history_paths(), history_schemas()),
        (plans_paths(), plans_schemas()),
        (pairing_paths(), pairing_schemas()),
        (network_case_paths(), network_case_schemas()),
    ] {
        // A path already described gains the operations added (GET and PATCH
        // of one record are described apart).
        if let (Some(to), Value::Object(add)) = (doc["paths"].as_object_mut(), paths) {
            for (path, ops) in add {
                match (to.get_mut(&path).and_then(Value::as_object_mut), ops) {
                    (Some(have), Value::Object(ops)) => have.extend(ops),
                    (_, ops) => {
                        to.insert(path, ops);
                    }
                }
            }
        }
        if let (Some(to), Value::Object(add)) = (doc["components"]["schemas"].as_object_mut(), schemas) {
            to.extend(add);
        }
    }
    // An operation that takes a body answers 413 for one over the limit.
    if let Some(paths) = doc["paths"].as_object_mut() {
        for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|ops| ops.values_mut()) {
            if op.get("requestBody").is_some() {
                op["responses"]["413"] = json!({ "description": format!("the body is larger than {} bytes", crate::BODY_LIMIT),
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
            }
        }
    }
    doc
}

/// The catalogue of drugs and services, and the items of bills (crate::catalogue,
/// crate::settlement).
fn catalogue_paths() -> Value {
    json!({
        "/catalogue": { "get": {
            "summary": "The catalogue of drugs and services (医保目录) by province and year (docs/catalogue.md): each item's code, name and category, a (甲, eligible in full), b (乙, eligible after the self-pay-first share the catalogue sets) or c (丙, not eligible). Filtered by province (two digits), year and q (a code's start or a part of the name); by province, year and code. Readable by every role; written by `safetynet import catalogue FILE`.",
            "operationId": "catalogue",
            "parameters": [
                query("province", "the province's two digits (34) or its 12-digit code; else a 400", "string"),
                year("the catalogue's year", 1990, 2100),
                query("q", "an item code's start or a part of its name; at most 64 characters", "string"),
                limit(),
                { "name": "offset", "in": "query", "required": false, "description": "how many to skip, default 0", "schema": { "type": "integer", "minimum": 0 } }
            ],
            "responses": errors(json!({ "200": list("CatalogueItem") })) } },
    })
}

fn catalogue_schemas() -> Value {
    let money = json!({ "$ref": "#/components/schemas/Money" });
    json!({
        "CatalogueItem": { "type": "object", "required": ["province", "year", "code", "name", "category", "self_pay_share"], "properties": {
            "province": { "type": "string", "pattern": "^[0-9]{2}$" }, "year": { "type": "integer" },
            "code": { "type": "string" }, "name": { "type": "string" },
            "category": { "type": "string", "enum": ["a", "b", "c"], "description": "a 甲: eligible in full; b 乙: eligible after the self-pay-first share; c 丙: not eligible" },
            "self_pay_share": { "type": "string", "description": "b only: the share the patient pays first, a decimal below 1 (0.1); 0 for a and c" } } },
        "BillItemRequest": { "type": "object", "additionalProperties": false, "required": ["item_code", "quantity", "unit_price"], "properties": {
            "item_code": { "type": "string", "minLength": 1, "maxLength": 64, "description": "a code of the catalogue of the facility's province for the year of discharge (else a 422 naming items[i])" },
            "quantity": { "oneOf": [ { "type": "string" }, { "type": "number" } ], "description": "more than 0, at most four decimals" },
            "unit_price": { "$ref": "#/components/schemas/Amount" },
            "amount": { "$ref": "#/components/schemas/Amount", "description": "quantity × unit_price rounded half up to the fen (else a 422); computed when left out" } } },
        "BillItem": { "type": "object", "required": ["item_code", "name", "quantity", "unit_price", "amount", "category", "self_pay_share", "self_pay_first", "eligible"], "properties": {
            "item_code": { "type": "string" }, "name": { "type": "string" }, "quantity": { "type": "string" },
            "unit_price": money, "amount": money,
            "category": { "type": "string", "enum": ["a", "b", "c"] },
            "self_pay_share": { "type": "string" },
            "self_pay_first": { "$ref": "#/components/schemas/Money", "description": "b: amount × share rounded half up to the fen; 0 otherwise" },
            "eligible": { "$ref": "#/components/schemas/Money", "description": "a: the amount; b: the amount less the self-pay-first part; c: 0" } } },
    })
}

/// The hospital desk: admissions, payments, arrears, reconciliation (crate::desk).
fn desk_paths() -> Value {
    let date = |name: &str, desc: &str, required: bool| json!({ "name": name, "in": "query", "required": required, "description": desc, "schema": { "type": "string", "format": "date" } });
    json!({
        "/admissions": { "post": {
            "summary": "Admit a patient at a facility under treat first, pay later (先诊疗后付费): the deposit is waived when the person's status is a poor one (special_hardship, low_income, lifted, monitored). The person (reference, or resident ID for roles that see IDs) and the facility must lie inside the caller's scope (else 404). admitted: today unless given; not in the future. Needs the settle permission (clerk, officer, administrator). Audited.",
            "operationId": "admit", "requestBody": body("AdmitRequest"),
            "responses": errors(json!({ "201": ok("Admission") })) } },
        "/admissions/{id}": { "get": {
            "summary": "An admission inside the scope (by its facility's region) with what is owed (the settlement's out-of-pocket, nothing once its claim is voided), paid, the balance and the payments; another county's answers 404. Persons masked as the role requires. Audited.",
            "operationId": "admission", "parameters": [number_param("admission number")],
            "responses": errors(json!({ "200": ok("Admission") })) } },
        "/admissions/{id}/claim": { "post": {
            "summary": "Name the claim the admission's bill was settled as (at the admission's facility): the patient's claim, settled, not voided, named by no other admission (else 409 or 422). An admission whose claim was voided may name the bill settled again. Needs the settle permission. Audited.",
            "operationId": "linkAdmissionClaim", "parameters": [number_param("admission number")], "requestBody": body("AdmissionClaimRequest"),
            "responses": errors(json!({ "200": ok("Admission") })) } },
        "/admissions/{id}/payments": { "post": {
            "summary": "Take an instalment of the patient's share: more than zero (else 400), not above the balance owed (else 409), paid on a day not in the future nor before the admission, by cash, card, mobile or transfer (else 422). Needs the settle permission. Audited.",
            "operationId": "takeAdmissionPayment", "parameters": [number_param("admission number")], "requestBody": body("AdmissionPaymentRequest"),
            "responses": errors(json!({ "201": ok("Admission") })) } },
        "/facilities/{id}/arrears": { "get": {
            "summary": "The arrears of a facility inside the scope (else 404): the admissions with a balance owed, the longest outstanding first (days from discharge), and the share of waived admissions paid up. Audited.",
            "operationId": "arrears", "parameters": [key_param("facility ID"), date("as_of", "the day the days outstanding are counted to; default today", false)],
            "responses": errors(json!({ "200": ok("Arrears") })) } },
        "/facilities/{id}/reconciliation": { "get": {
            "summary": "The reconciliation of a facility inside the scope (else 404) with the funds from `from` to `to` (both included, at most 366 days, days in China's time): per day and fund the settlements, the voids (negative) and the corrections as separate lines and totals, whose net equals the sum of the slips. JSON; CSV (the summary, or with fund= that fund's statement); XLSX (the summary and a statement per fund). Needs the settle or export permission. Audited.",
            "operationId": "reconciliation",
            "parameters": [key_param("facility ID"), date("from", "the first day", true), date("to", "the last day", true),
                           query("format", "json (default), csv or xlsx", "string"), query("fund", "one fund (tier) of the policy: its lines in JSON, its statement in CSV", "string")],
            "responses": errors(json!({ "200": {
                "description": "ok",
                "content": {
                    "application/json": { "schema": { "$ref": "#/components/schemas/Reconciliation" } },
                    "text/csv": { "schema": { "type": "string" } },
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } } } } })) } },
    })
}

fn desk_schemas() -> Value {
    let money = json!({ "type": "string", "description": "yuan with two decimals; may be negative" });
    let text = json!({ "type": "string" });
    let totals = json!({ "type": "object", "properties": {
        "day": { "type": "string", "nullable": true }, "fund": text, "settled": money, "voided": money, "corrected": money, "net": money } });
    json!({
        "AdmitRequest": { "type": "object", "additionalProperties": false, "required": ["person", "facility_id"], "properties": {
            "person": { "type": "string", "description": "the person's reference, or resident ID (roles that see IDs)" },
            "facility_id": { "type": "string", "minLength": 1, "maxLength": 64 },
            "admitted": { "type": "string", "format": "date" } } },
        "AdmissionClaimRequest": { "type": "object", "additionalProperties": false, "required": ["claim_id"], "properties": {
            "claim_id": { "type": "string", "minLength": 1, "maxLength": 64 } } },
        "AdmissionPaymentRequest": { "type": "object", "additionalProperties": false, "required": ["amount", "method"], "properties": {
            "amount": { "$ref": "#/components/schemas/Amount" },
            "paid_on": { "type": "string", "format": "date" },
            "method": { "type": "string", "enum": ["cash", "card", "mobile", "transfer"] } } },
        "Admission": { "type": "object", "required": ["id", "person_ref", "facility_id", "owed", "paid", "balance", "payments"], "properties": {
            "id": { "type": "integer" }, "person_ref": text, "person_id": text, "name": text, "facility_id": text,
            "admitted": text, "status": text, "deposit_waived": { "type": "boolean" },
            "claim_id": { "type": "string", "nullable": true }, "claim_voided": { "type": "boolean" },
            "discharged": { "type": "string", "nullable": true },
            "owed": money, "paid": money, "balance": money,
            "payments": { "type": "array", "items": { "type": "object", "properties": {
                "amount": money, "paid_on": text, "method": text, "recorded_by": text } } } } },
        "Arrears": { "type": "object", "required": ["facility_id", "rows"], "properties": {
            "facility_id": text, "as_of": text, "total": money,
            "waived_settled": { "type": "integer" }, "waived_paid_up": { "type": "integer" },
            "paid_up_share": { "type": "number", "nullable": true },
            "rows": { "type": "array", "items": { "type": "object", "properties": {
                "days_outstanding": { "type": "integer" }, "admission": { "$ref": "#/components/schemas/Admission" } } } } } },
        "Reconciliation": { "type": "object", "required": ["facility_id", "funds", "days", "totals", "lines"], "properties": {
            "facility_id": text, "from": text, "to": text, "funds": { "type": "array", "items": text },
            "days": { "type": "array", "items": totals.clone() }, "totals": { "type": "array", "items": totals },
            "lines": { "type": "array", "items": { "type": "object", "properties": {
                "day": text, "kind": { "type": "string", "enum": ["settlement", "void", "correction"] }, "claim_id": text,
                "person_id": text, "fund": text, "amount": money, "cause": text } } } } },
    })
}

/// A person in a path: their reference, or (roles that see IDs in clear) their ID.
fn person_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true,
            "description": "the person's reference (person_ref: 32 lower-case hex digits), as every answer gives it; a role that sees persons in clear may also give the 18-character resident ID. For a role that sees persons masked, a resident ID answers 404 as an unknown person does.",
            "schema": { "type": "string", "minLength": 18, "maxLength": 32 } })
}

/// Basic medical insurance enrolment (crate::enrolment, docs/desk.md).
fn enrolment_paths() -> Value {
    json!({
        "/persons/{id}/enrolments": { "get": {
            "summary": "A person's basic medical insurance enrolment (参保) by year, with the premium-subsidy category; a person outside the scope is a 404.",
            "operationId": "listEnrolments", "parameters": [person_param()],
            "responses": errors(json!({ "200": list("Enrolment") })) } },
        "/persons/{id}/enrolments/{year}": { "put": {
            "summary": "Set a person's enrolment for a year (a new one, or a new category and day): the category is full (全额资助), partial (定额资助) or none (不资助). Needs a role that does the work; audited. Answers the person's enrolments. A claim of a year the person is not enrolled for gets nothing from the policy's tiers with requires_enrolment, and its settlement carries the warning not_enrolled.",
            "operationId": "setEnrolment",
            "parameters": [person_param(), { "name": "year", "in": "path", "required": true, "description": "the year, 1990 to 2100 (else a 400)", "schema": { "type": "integer", "minimum": 1990, "maximum": 2100 } }],
            "requestBody": body("EnrolmentRequest"),
            "responses": errors(json!({ "200": list("Enrolment") })) } },
    })
}

fn enrolment_schemas() -> Value {
    json!({
        "Enrolment": { "type": "object", "required": ["year", "category", "category_zh", "enrolled_on", "changed_by", "changed_at"], "properties": {
            "year": { "type": "integer" },
            "category": { "type": "string", "enum": ["full", "partial", "none"] },
            "category_zh": { "type": "string" },
            "enrolled_on": { "type": "string", "format": "date" },
            "changed_by": { "type": "string" },
            "changed_at": { "type": "string", "format": "date-time" } } },
        "EnrolmentRequest": { "type": "object", "required": ["category", "enrolled_on"], "additionalProperties": false, "properties": {
            "category": { "type": "string", "description": "full, partial or none (or 全额资助, 定额资助, 不资助)" },
            "enrolled_on": { "type": "string", "format": "date" } } },
    })
}

/// The network's history and the coverage of a day (crate::history,
/// docs/coverage.md "History").
fn history_paths() -> Value {
    let practitioner = || {
        key_param("the practitioner's ID; a practitioner whose record and postings all lie outside the caller's scope is a 404")
    };
    let as_of = json!({ "name": "as_of", "in": "query", "required": false,
        "description": "the day (YYYY-MM-DD) the network is taken as it stood, from its history; absent or blank: today",
        "schema": { "anyOf": [ { "type": "string", "format": "date" }, { "type": "string", "pattern": "^\\s*$" } ] } });
    json!({
        "/coverage": { "get": {
            "summary": "The blank spots of the scope on a day and at +1, +3 and +5 years (docs/coverage.md), each computed over the network as its history has it on that day: who was posted where, what they were qualified as, which facilities were open; everyone older by the years passed. The numbers of the coverage page; blank_villages is the overview's card for today.",
            "operationId": "getCoverage", "parameters": [as_of],
            "responses": errors(json!({ "200": ok("Coverage") })) } },
        "/network-alerts": { "get": {
            "summary": "Network alerts of the scope: the villages and township centres blank today, or made blank within the horizon by a change recorded in the network's history (a doctor reaching the retirement age, a posting ending, a facility closing, a licence lapsing), each with the first day it is blank, what makes it so, and the township and county that must fill it. Computed from the history on each call.",
            "operationId": "listNetworkAlerts",
            "parameters": [{ "name": "years", "in": "query", "required": false, "description": "the horizon in years from today: 0 to 5, default 1",
                             "schema": { "type": "integer", "minimum": 0, "maximum": 5, "default": 1 } }],
            "responses": errors(json!({ "200": ok("NetworkAlerts") })) } },
        "/practitioners/{id}/postings": {
            "get": {
                "summary": "A practitioner's postings: the facility that employs them (employer) and where they work (posting, e.g. 县管乡用, 乡聘村用), each with its start and end (the last day, included). With none recorded, the one item is the rule's: the facility of their record from an unknown day, from_record true.",
                "operationId": "listPostings", "parameters": [practitioner()],
                "responses": errors(json!({ "200": list("Posting") })) },
            "post": {
                "summary": "Record a posting (role: officer, administrator; audited). Refused with 422 naming the field: the facility is not in the store inside the caller's scope; the posting shares a day with another of the same practitioner in the same role. The same posting given again (same facility, role and start) sets its end. Once a posting is recorded, the practitioner's recorded postings are their whole history. Answers the practitioner's postings; with raise_network_alerts, also the network alerts computed again and kept at the places where the practitioner may work (network_alerts).",
                "operationId": "addPosting", "parameters": [practitioner()], "requestBody": body("PostingRequest"),
                "responses": errors(json!({ "200": ok("RecordedPostings") })) } },
        "/practitioners/{id}/qualifications": {
            "get": {
                "summary": "A practitioner's qualifications with the day each was obtained and the day it lapses (the first day it is no longer held). With none recorded, the one item is the record's qualification, held from an unknown day, from_record true.",
                "operationId": "listQualifications", "parameters": [practitioner()],
                "responses": errors(json!({ "200": list("Qualification") })) },
            "post": {
                "summary": "Record a qualification with its days (role: officer, administrator; audited). The same qualification obtained on the same day given again sets its lapse. On a day, a practitioner serves with the best qualification they hold (physician, assistant physician, rural doctor, nurse, other); with recorded qualifications and none held, as other. Answers the practitioner's qualifications; with raise_network_alerts, as for a posting.",
                "operationId": "addQualification", "parameters": [practitioner()], "requestBody": body("QualificationRequest"),
                "responses": errors(json!({ "200": ok("RecordedQualifications") })) } },
    })
}

fn history_schemas() -> Value {
    let date_or_null = json!({ "type": "string", "format": "date", "nullable": true });
    let text_or_null = json!({ "type": "string", "nullable": true });
    let time_or_null = json!({ "type": "string", "format": "date-time", "nullable": true });
    let raise_after = json!({ "type": "integer", "minimum": 0, "maximum": 5, "nullable": true,
        "description": "once recorded, compute and keep the network alerts of the places where the practitioner may work (their record's facility and each posting's), up to this many years ahead: the incremental recompute of docs/coverage.md; absent or null: none" });
    let recorded = |item: &str| {
        json!({ "type": "object", "required": ["items"], "properties": {
        "items": { "type": "array", "items": { "$ref": format!("#/components/schemas/{item}") } },
        "network_alerts": { "$ref": "#/components/schemas/NetworkAlertsRaised" } } })
    };
    json!({
        "Coverage": { "type": "object", "required": ["as_of", "blank_villages", "counts", "spots"], "properties": {
            "as_of": { "type": "string", "format": "date" },
            "blank_villages": { "type": "integer", "description": "villages blank on as_of (village_no_clinic and village_no_doctor)" },
            "counts": { "type": "array", "items": { "type": "object", "required": ["in_years", "kind", "count"], "properties": {
                "in_years": { "type": "integer", "enum": [0, 1, 3, 5] },
                "kind": { "type": "string", "enum": ["county_no_hospital", "township_no_physician", "village_no_clinic", "village_no_doctor"] },
                "count": { "type": "integer" } } } },
            "spots": { "type": "array", "items": { "type": "object", "required": ["kind", "region_code", "name", "in_years", "detail"], "properties": {
                "kind": { "type": "string", "enum": ["county_no_hospital", "township_no_physician", "village_no_clinic", "village_no_doctor"] },
                "region_code": { "type": "string" }, "name": { "type": "string" },
                "in_years": { "type": "integer", "enum": [0, 1, 3, 5] },
                "detail": { "type": "string", "description": "for people; not a contract" } } } } } },
        "NetworkAlerts": { "type": "object", "required": ["today", "until", "items"], "properties": {
            "today": { "type": "string", "format": "date" }, "until": { "type": "string", "format": "date" },
            "items": { "type": "array", "items": { "type": "object",
                "required": ["kind", "region_code", "name", "township", "county", "from", "now", "causes"], "properties": {
                "kind": { "type": "string", "enum": ["township_no_physician", "village_no_clinic", "village_no_doctor"] },
                "region_code": { "type": "string" }, "name": { "type": "string" },
                "township": { "type": "string", "nullable": true, "description": "9 digits" }, "county": { "type": "string", "nullable": true, "description": "6 digits" },
                "from": { "type": "string", "format": "date", "description": "the first day it is blank: today when blank now" },
                "now": { "type": "boolean" },
                "causes": { "type": "array", "items": { "type": "string" }, "description": "for people: the changes of that day; not a contract" } } } } } },
        "Posting": { "type": "object", "required": ["id", "facility_id", "role", "start", "end", "from_record", "changed_by", "changed_at"], "properties": {
            "id": { "type": "integer", "nullable": true, "description": "null for the rule's posting from the record" },
            "facility_id": { "type": "string" },
            "role": { "type": "string", "enum": ["employer", "posting"] },
            "start": date_or_null.clone(), "end": date_or_null.clone(),
            "from_record": { "type": "boolean", "description": "no posting recorded: the record's facility from an unknown day" },
            "changed_by": text_or_null.clone(), "changed_at": time_or_null.clone() } },
        "PostingRequest": { "type": "object", "required": ["facility_id", "role"], "additionalProperties": false, "properties": {
            "facility_id": { "type": "string", "minLength": 1, "maxLength": 64 },
            "role": { "type": "string", "description": "employer or posting (or 聘用单位, 工作单位)" },
            "start": opt_date("the first day; absent, null or blank: from an unknown day"),
            "end": opt_date("the last day (included), not before start; absent, null or blank: no end yet"),
            "raise_network_alerts": raise_after.clone() } },
        "Qualification": { "type": "object", "required": ["id", "qualification", "obtained", "lapses", "from_record", "changed_by", "changed_at"], "properties": {
            "id": { "type": "integer", "nullable": true },
            "qualification": { "type": "string", "enum": ["physician", "assistant_physician", "rural_doctor", "nurse", "other"] },
            "obtained": date_or_null.clone(), "lapses": date_or_null,
            "from_record": { "type": "boolean" },
            "changed_by": text_or_null, "changed_at": time_or_null } },
        "QualificationRequest": { "type": "object", "required": ["qualification"], "additionalProperties": false, "properties": {
            "qualification": { "type": "string", "description": "physician, assistant_physician, rural_doctor, nurse or other (or 执业医师, 执业助理医师, 乡村医生, 护士, 其他)" },
            "obtained": opt_date("the day obtained; absent, null or blank: an unknown day"),
            "lapses": opt_date("the first day it is no longer held, after obtained; absent, null or blank: never"),
            "raise_network_alerts": raise_after } },
        "RecordedPostings": recorded("Posting"),
        "RecordedQualifications": recorded("Qualification"),
    })
}

/// Kept roving and dispatch plans (crate::plans, docs/plans.md).
fn plans_paths() -> Value {
    let plan = || number_param("the plan's number; a plan not seen from the caller's scope is a 404");
    let day = |name: &str, desc: &str| {
        json!({ "name": name, "in": "query", "required": false, "description": desc,
        "schema": { "type": "string", "format": "date" } })
    };
    json!({
        "/plans": {
            "get": {
                "summary": "The kept plans seen from the caller's scope (of regions inside it, and of the county and township it lies in), by region, period and version, latest first.",
                "operationId": "listPlans",
                "responses": errors(json!({ "200": list("Plan") })) },
            "post": {
                "summary": "Save a plan as a draft, the next version of its region (a county or township inside the caller's scope) and period (role: officer, administrator; audited). Without lines, the planner's plan for the region over the network as it stood on as_of (default today), with its settings; with lines, those. Older drafts and approved versions of the same region and period are superseded; a version in force stays so until the new one is put in force. 422 naming the line: a village not in the store or outside the region, a practitioner not in the store, a term out of order.",
                "operationId": "savePlan", "requestBody": body("PlanRequest"),
                "responses": errors(json!({ "200": ok("Plan") })) } },
        "/plans/indicator": { "get": {
            "summary": "The share of planned visits made, by township and county, over the villages of the caller's scope: for every line of every plan that has been in force, the planned days from `from` to `to` and up to today while the plan was in force, inside its period and the doctor's term (due), and the visits recorded in those days, at most those due (made).",
            "operationId": "getPlannedVisitsMade",
            "parameters": [day("from", "the first day; default the year's first"), day("to", "the last day; default today")],
            "responses": errors(json!({ "200": ok("PlannedVisitsMade") })) } },
        "/plans/{id}": { "get": {
            "summary": "One plan with its lines (each with its visits due and made to today) and the visits recorded against it.",
            "operationId": "getPlan", "parameters": [plan()],
            "responses": errors(json!({ "200": ok("PlanDetail") })) } },
        "/plans/{id}/lines": { "put": {
            "summary": "Replace the lines of a draft (role: officer, administrator; audited). 409 for a plan no longer a draft: save a new version.",
            "operationId": "editPlanLines", "parameters": [plan()], "requestBody": body("PlanLinesRequest"),
            "responses": errors(json!({ "200": ok("Plan") })) } },
        "/plans/{id}/moves": { "post": {
            "summary": "Approve a draft, put an approved plan in force (from today, or the period's start if later; the version in force before it of the same region and period is superseded), or withdraw a plan (role: administrator, or officer of a county or wider, for a plan of a region inside the scope; audited). 409 for a move the plan's state does not allow; 422 for a plan without lines or with a dispatch line whose doctor is not named, or put in force after its period.",
            "operationId": "movePlan", "parameters": [plan()], "requestBody": body("PlanMoveRequest"),
            "responses": errors(json!({ "200": ok("Plan") })) } },
        "/plans/{id}/visits": { "post": {
            "summary": "Record a visit made against a plan in force (role: village doctor, officer, administrator; the village inside the caller's scope; audited). 422: the plan is not in force, the day is outside its period, before it was put in force, after today, or outside the doctor's term; the village is not in the plan; the doctor has no line for it; the village has several lines and no doctor is named. The same line and day given again is kept as it was (unchanged).",
            "operationId": "recordPlanVisit", "parameters": [plan()], "requestBody": body("PlanVisitRequest"),
            "responses": errors(json!({ "200": ok("PlanVisitResult") })) } },
    })
}

fn plans_schemas() -> Value {
    let date = json!({ "type": "string", "format": "date" });
    let date_or_null = json!({ "type": "string", "format": "date", "nullable": true });
    let text_or_null = json!({ "type": "string", "nullable": true });
    let line_in = json!({ "type": "object", "required": ["village_code", "kind"], "additionalProperties": false, "properties": {
        "village_code": { "type": "string", "description": "12 digits, a village inside the plan's region" },
        "kind": { "type": "string", "enum": ["rove", "dispatch"] },
        "practitioner_id": { "type": "string", "nullable": true, "description": "the doctor; a dispatch line may leave it empty while a draft" },
        "term_start": opt_date("a dispatched doctor's first day (required for dispatch)"),
        "term_end": opt_date("a dispatched doctor's last day, not before term_start"),
        "days": { "type": "string", "nullable": true, "description": "weekdays (Mon;Wed) or dates (2027-01-04;2027-01-11); a dispatch line without them: Mon to Fri" } } });
    json!({
        "Plan": { "type": "object", "required": ["id", "region_code", "period_start", "period_end", "version", "state", "as_of",
                "travel_minutes", "lower_bound_minutes", "gap", "in_force_from", "in_force_until", "made_by", "made_at", "changed_by", "changed_at"], "properties": {
            "id": { "type": "integer" }, "region_code": { "type": "string", "description": "6 or 9 digits" },
            "period_start": date.clone(), "period_end": date.clone(),
            "version": { "type": "integer", "minimum": 1 },
            "state": { "type": "string", "enum": ["draft", "approved", "in_force", "superseded", "withdrawn"] },
            "as_of": date.clone(),
            "travel_minutes": { "type": "number", "description": "the planner's one-way travel of a week; 0 for lines given by hand" },
            "lower_bound_minutes": { "type": "number" },
            "gap": { "type": "number", "description": "(travel - bound) / bound; 0 when the bound is 0" },
            "in_force_from": date_or_null.clone(), "in_force_until": date_or_null.clone(),
            "made_by": { "type": "string" }, "made_at": { "type": "string", "format": "date-time" },
            "changed_by": { "type": "string" }, "changed_at": { "type": "string", "format": "date-time" } } },
        "PlanDetail": { "type": "object", "required": ["plan", "today", "population", "tours", "lines", "visits"], "properties": {
            "plan": { "$ref": "#/components/schemas/Plan" }, "today": date.clone(),
            "population": { "type": "object", "nullable": true, "required": ["covered", "bound", "gap"],
                "description": "the weekly plan's population covered by roving against its upper bound (a relaxation solved exactly); null for lines given by hand or a plan saved before bounds were kept",
                "properties": { "covered": { "type": "integer" }, "bound": { "type": "integer" },
                    "gap": { "type": "number", "description": "(bound - covered) / bound; 0 when the bound is 0" } } },
            "tours": { "type": "object", "nullable": true, "description": "the planner's roving tours kept with the plan, with both bounds; null when none were planned with it",
                "required": ["visits_per_month", "halfdays_per_month", "halfday_minutes", "service_minutes", "doctors", "toured_villages",
                    "covered_population", "population_bound", "population_gap", "travel_minutes", "travel_bound_minutes", "travel_gap", "not_planned", "items"],
                "properties": {
                    "visits_per_month": { "type": "integer" }, "halfdays_per_month": { "type": "integer" },
                    "halfday_minutes": { "type": "number" }, "service_minutes": { "type": "number" },
                    "doctors": { "type": "integer" }, "toured_villages": { "type": "integer" },
                    "covered_population": { "type": "integer" }, "population_bound": { "type": "integer" },
                    "population_gap": { "type": "number", "description": "(bound - covered) / bound" },
                    "travel_minutes": { "type": "number", "description": "round trips of all runs in a month" },
                    "travel_bound_minutes": { "type": "number" },
                    "travel_gap": { "type": "number", "description": "(travel - bound) / bound" },
                    "not_planned": { "type": "string", "description": "why no tours were planned (too many blank villages); empty when they were" },
                    "items": { "type": "array", "items": { "type": "object", "required": ["tour_no", "practitioner_id", "facility_id", "halfdays",
                            "village_codes", "travel_minutes", "duration_minutes", "population"], "properties": {
                        "tour_no": { "type": "integer" }, "practitioner_id": { "type": "string" }, "facility_id": { "type": "string" },
                        "halfdays": { "type": "string", "description": "the month's half-days it runs: W1 Mon AM;W3 Mon AM" },
                        "village_codes": { "type": "array", "items": { "type": "string" }, "description": "in the order visited" },
                        "travel_minutes": { "type": "number" }, "duration_minutes": { "type": "number" },
                        "population": { "type": "integer" } } } } } },
            "lines": { "type": "array", "items": { "type": "object", "required": ["line_no", "village_code", "kind", "practitioner_id",
                    "term_start", "term_end", "days", "halfdays", "travel_minutes", "due", "made"], "properties": {
                "line_no": { "type": "integer" }, "village_code": { "type": "string" },
                "kind": { "type": "string", "enum": ["rove", "dispatch"] },
                "practitioner_id": text_or_null.clone(), "term_start": date_or_null.clone(), "term_end": date_or_null.clone(),
                "days": { "type": "string" }, "halfdays": { "type": "string" },
                "travel_minutes": { "type": "number", "nullable": true },
                "due": { "type": "integer" }, "made": { "type": "integer" } } } },
            "visits": { "type": "array", "items": { "type": "object", "required": ["line_no", "village_code", "practitioner_id", "date", "note", "recorded_by", "recorded_at"], "properties": {
                "line_no": { "type": "integer" }, "village_code": { "type": "string" }, "practitioner_id": text_or_null,
                "date": date.clone(), "note": { "type": "string" }, "recorded_by": { "type": "string" },
                "recorded_at": { "type": "string", "format": "date-time" } } } } } },
        "PlanRequest": { "type": "object", "required": ["region_code", "period_start", "period_end"], "additionalProperties": false, "properties": {
            "region_code": { "type": "string", "description": "a county (6 digits) or township (9 digits)" },
            "period_start": date.clone(), "period_end": date.clone(),
            "as_of": opt_date("the day of the network the planner plans on; default today"),
            "lines": { "type": "array", "nullable": true, "items": line_in.clone(), "description": "absent: the planner's lines" },
            "visits_per_week": { "type": "integer", "minimum": 1, "maximum": 10, "nullable": true },
            "outreach_halfdays": { "type": "integer", "minimum": 1, "maximum": 10, "nullable": true },
            "max_travel_minutes": { "type": "number", "nullable": true },
            "dispatch_population": { "type": "integer", "minimum": 0, "nullable": true },
            "visits_per_month": { "type": "integer", "minimum": 1, "maximum": 40, "nullable": true, "description": "tours: visits a toured village gets a month (4)" },
            "halfdays_per_month": { "type": "integer", "minimum": 1, "maximum": 40, "nullable": true, "description": "tours: most half-days a doctor gives to tours a month (8)" },
            "halfday_minutes": { "type": "number", "nullable": true, "description": "tours: a half-day's travel and service (240)" },
            "service_minutes": { "type": "number", "nullable": true, "description": "tours: time in each village (45)" } } },
        "PlanLinesRequest": { "type": "object", "required": ["lines"], "additionalProperties": false, "properties": {
            "lines": { "type": "array", "items": line_in } } },
        "PlanMoveRequest": { "type": "object", "required": ["to"], "additionalProperties": false, "properties": {
            "to": { "type": "string", "enum": ["approved", "in_force", "withdrawn"] } } },
        "PlanVisitRequest": { "type": "object", "required": ["village_code", "date"], "additionalProperties": false, "properties": {
            "village_code": { "type": "string" }, "date": date.clone(),
            "practitioner_id": { "type": "string", "nullable": true, "description": "the doctor who visited; needed where the village has several lines" },
            "note": { "type": "string", "nullable": true, "maxLength": 500 } } },
        "PlanVisitResult": { "type": "object", "required": ["inserted", "unchanged"], "properties": {
            "inserted": { "type": "integer" }, "unchanged": { "type": "integer" } } },
        "PlannedVisitsMade": { "type": "object", "required": ["from", "to", "today", "items"], "properties": {
            "from": date.clone(), "to": date.clone(), "today": date,
            "items": { "type": "array", "items": { "type": "object", "required": ["level", "region_code", "due", "made", "share"], "properties": {
                "level": { "type": "string", "enum": ["township", "county"] },
                "region_code": { "type": "string" },
                "due": { "type": "integer" }, "made": { "type": "integer" },
                "share": { "type": "number", "nullable": true, "description": "made / due; null when nothing was due" } } } } } },
    })
}

/// Network alerts kept and their cases (crate::network_cases).
fn network_case_paths() -> Value {
    let id = || number_param("network case ID; one outside the caller's scope is a 404");
    json!({
        "/network-alerts/kept": { "get": {
            "summary": "The network alerts kept inside the scope, open ones first by the day they become blank, then the resolved ones; each with what made it (change, practitioner, facility) and its case. Audited.",
            "operationId": "listKeptNetworkAlerts",
            "parameters": [query("open", "true: only the alerts not resolved", "boolean"), limit()],
            "responses": errors(json!({ "200": list("KeptNetworkAlert") })) } },
        "/network-alerts/raise": { "post": {
            "summary": "Compute the network alerts of the caller's scope from today to the horizon and keep them (role: officer, administrator; audited): a gap not kept yet is raised and opens a network case with the place's deadlines; a gap kept and found again stays one alert; a kept gap no longer found, blank from a day within the horizon, is resolved.",
            "operationId": "raiseNetworkAlerts", "requestBody": body("RaiseNetworkAlertsRequest"),
            "responses": errors(json!({ "200": ok("NetworkAlertsRaised") })) } },
        "/network-cases": { "get": {
            "summary": "Network cases in scope: those awaiting verification past their deadline first (overdue), then the open ones by deadline, then the closed ones. Audited.",
            "operationId": "listNetworkCases",
            "parameters": [query("state", "open, assigned, verified, assisting or closed", "string"), query("open", "true: only open cases", "boolean"),
                           query("overdue", "true: only cases awaiting verification past their deadline", "boolean"), limit()],
            "responses": errors(json!({ "200": list("NetworkCase") })) } },
        "/network-cases/{id}": { "get": {
            "summary": "One network case with its alert and history. Audited.", "operationId": "getNetworkCase",
            "parameters": [id()], "responses": errors(json!({ "200": ok("NetworkCaseRecord") })) } },
        "/network-cases/{id}/assign": { "post": {
            "summary": "Make an officer whose scope holds the place responsible, to verify by a deadline (default: the place's). Every move names the version it was made on; a stale version is a 409 and writes nothing.",
            "operationId": "assignNetworkCase", "parameters": [id()], "requestBody": body("AssignRequest"),
            "responses": errors(json!({ "200": ok("NetworkCaseRecord") })) } },
        "/network-cases/{id}/verify": { "post": {
            "summary": "The gap confirmed on the ground, with what was found", "operationId": "verifyNetworkCase",
            "parameters": [id()], "requestBody": body("NetworkCaseNoteRequest"),
            "responses": errors(json!({ "200": ok("NetworkCaseRecord") })) } },
        "/network-cases/{id}/steps": { "post": {
            "summary": "A step taken to fill the gap (a recruitment, a posting arranged, a plan drafted) on a verified case; it moves to assisting",
            "operationId": "addNetworkCaseStep", "parameters": [id()], "requestBody": body("NetworkCaseNoteRequest"),
            "responses": errors(json!({ "201": ok("NetworkCaseRecord") })) } },
        "/network-cases/{id}/close": { "post": {
            "summary": "Close the case: filled needs its network alert resolved (a computation no longer finds the gap); planned needs a kept plan in force, its period not ended, with a line for the place (the village, or a village of the township), the plan_id given or else the latest put in force, and links the case to it (plan_id, plan_version); not_needed needs a verification and a note. A refused close is a 409 with the reason and writes nothing.",
            "operationId": "closeNetworkCase", "parameters": [id()], "requestBody": body("NetworkCaseCloseRequest"),
            "responses": errors(json!({ "200": ok("NetworkCaseRecord") })) } },
    })
}

fn network_case_schemas() -> Value {
    let date = json!({ "type": "string", "format": "date" });
    let time = json!({ "type": "string", "format": "date-time" });
    let text = json!({ "type": "string" });
    let text_or_null = json!({ "type": "string", "nullable": true });
    let states = json!({ "type": "string", "enum": ["open", "assigned", "verified", "assisting", "closed"] });
    let version = json!({ "type": "integer", "format": "int64", "minimum": 1, "description": "the version the move is made on, as read" });
    json!({
        "KeptNetworkAlert": { "type": "object", "required": ["id", "kind", "region_code", "name", "blank_from", "change", "raised_at", "seen_at", "resolved_at", "case_id"], "properties": {
            "id": { "type": "integer" },
            "kind": { "type": "string", "enum": ["township_no_physician", "village_no_clinic", "village_no_doctor"] },
            "region_code": text, "name": text,
            "township": { "type": "string", "nullable": true, "description": "9 digits" }, "county": { "type": "string", "nullable": true, "description": "6 digits" },
            "blank_from": date,
            "change": { "type": "string", "enum": ["blank_now", "retirement", "posting_end", "departure", "closure", "licence_lapse", "other"] },
            "practitioner_id": text_or_null.clone(), "facility_id": text_or_null.clone(),
            "detail": { "type": "string", "description": "for people: the changes in words; not a contract" },
            "raised_at": time.clone(), "raised_by": text, "seen_at": time.clone(),
            "resolved_at": { "type": "string", "format": "date-time", "nullable": true, "description": "when a computation no longer found the gap" },
            "case_id": { "type": "integer", "nullable": true }, "case_state": { "type": "string", "nullable": true, "enum": ["open", "assigned", "verified", "assisting", "closed"] } } },
        "NetworkAlertsRaised": { "type": "object", "required": ["today", "until", "found", "raised", "seen", "resolved"], "properties": {
            "today": date, "until": date, "found": { "type": "integer" },
            "places": { "type": "integer", "description": "computed at this many places only (after a change of the network); absent: over the whole scope" },
            "raised": { "type": "array", "items": { "type": "object", "required": ["alert_id", "case_id"], "properties": {
                "alert_id": { "type": "integer" }, "case_id": { "type": "integer" } } } },
            "seen": { "type": "integer", "description": "alerts kept and found again" },
            "resolved": { "type": "array", "items": { "type": "integer" }, "description": "the alerts resolved" } } },
        "RaiseNetworkAlertsRequest": { "type": "object", "additionalProperties": false, "properties": {
            "years": { "type": "integer", "minimum": 0, "maximum": 5, "nullable": true, "description": "the horizon in years from today; default 1" } } },
        "NetworkCase": { "type": "object", "required": ["id", "alert", "region_code", "state", "overdue", "due", "close_due", "version"], "properties": {
            "id": { "type": "integer" }, "alert": { "$ref": "#/components/schemas/KeptNetworkAlert" },
            "region_code": { "type": "string", "description": "the village, or the township centre's region" }, "state": states.clone(),
            "overdue": { "type": "boolean", "description": "awaiting verification past its deadline" },
            "opened_at": time.clone(), "opened_by": text, "assignee": text, "due": date.clone(), "close_due": date.clone(),
            "late_to_close": { "type": "boolean" },
            "verified_on": { "type": "string", "format": "date", "nullable": true },
            "closed_at": { "type": "string", "format": "date-time", "nullable": true }, "closed_on": { "type": "string", "format": "date", "nullable": true },
            "close_reason": { "type": "string", "enum": ["filled", "planned", "not_needed"], "nullable": true },
            "plan_id": { "type": "integer", "nullable": true, "description": "closed as planned: the kept plan that fills the gap" },
            "plan_version": { "type": "integer", "nullable": true },
            "version": { "type": "integer" }, "updated_at": time.clone() } },
        "NetworkCaseRecord": { "allOf": [ { "$ref": "#/components/schemas/NetworkCase" }, { "type": "object", "properties": {
            "events": { "type": "array", "items": { "type": "object", "properties": {
                "at": time, "actor": text, "action": { "type": "string", "enum": ["open", "assign", "verify", "step", "close", "alert_resolved"] },
                "from": { "type": "string", "nullable": true }, "to": states, "detail": text } } } } } ] },
        "NetworkCaseNoteRequest": { "type": "object", "additionalProperties": false, "required": ["version", "date", "note"], "properties": {
            "version": version.clone(), "date": { "type": "string", "format": "date", "description": "not in the future" },
            "note": { "type": "string", "minLength": 1, "maxLength": 2000 } } },
        "NetworkCaseCloseRequest": { "type": "object", "additionalProperties": false, "required": ["version", "reason"], "properties": {
            "version": version, "reason": { "type": "string", "enum": ["filled", "planned", "not_needed"] },
            "note": { "type": "string", "maxLength": 2000, "description": "required for not_needed" },
            "plan_id": { "type": "integer", "minimum": 1, "nullable": true, "description": "planned: the kept plan in force with a line for the place; absent, the latest such plan put in force" } } },
    })
}

/// API tokens and the plausibility limits (crate::accounts, crate::limits).
fn admin_paths() -> Value {
    json!({
        "/claims/{id}/slip": { "get": {
            "summary": "The settlement slip of a settled claim inside the scope (结算单), by its key (the claim ID at its facility): the patient (masked unless the role may see them), the bill, what each fund paid, the explanation, what the patient owes; a voided claim's slip is marked voided. Audited. The page /claims/{id}/slip?facility=F prints it.",
            "operationId": "slip", "parameters": [key_param("claim ID"), facility_param()],
            "responses": errors(json!({ "200": ok("Slip") })) } },
        "/tokens": {
            "get": { "summary": "The API tokens the caller may see: their own; an administrator's, those of users in their scope.",
                "operationId": "listTokens", "responses": errors(json!({ "200": list("Token") })) },
            "post": { "summary": "Make an API token from a signed-in session (not with a token): a role no stronger than the caller's, a scope inside theirs, an expiry of 1 to 365 days (90 by default). The secret is shown once. Audited.",
                "operationId": "createToken", "requestBody": body("CreateTokenRequest"),
                "responses": errors(json!({ "201": ok("NewToken") })) } },
        "/tokens/{id}/revoke": { "post": {
            "summary": "Revoke a token: the caller's own, or (administrators) one of a user in their scope. Audited.",
            "operationId": "revokeToken", "parameters": [key_param("token ID")],
            "responses": errors(json!({ "200": ok("Token") })) } },
        "/users/{id}/facility": { "post": {
            "summary": "Bind a clerk's account (and so every token of theirs) to one facility of its region scope, or free it (facility_id null or blank). A bound clerk settles, admits, takes payments, voids and reads slips of that facility only; another facility's claim is refused with 403. Administrators only, inside their scope. Audited.",
            "operationId": "setUserFacility", "parameters": [key_param("user ID")], "requestBody": body("UserFacilityRequest"),
            "responses": errors(json!({ "200": ok("UserFacility") })) } },
        "/targets": {
            "get": { "summary": "The targets of the programme indicators in force for the caller's scope (shipped, or kept by administrators, the most specific winning), and the latest changes.",
                "operationId": "listTargets", "responses": errors(json!({ "200": ok("Targets") })) },
            "put": { "summary": "Set a target of an indicator for a region (a code prefix, \"\" the nation) and a year (or every year), or remove it (remove: true). Administrators only, inside their scope; each change is a new version, audited. Answers the targets in force.",
                "operationId": "setTarget", "requestBody": body("SetTargetRequest"),
                "responses": errors(json!({ "200": ok("Targets") })) } },
        "/limits": {
            "get": { "summary": "The plausibility limits on amounts (docs/settlement.md, \"Plausibility limits\"): a claim or a measure above its limit is refused.",
                "operationId": "listLimits", "responses": errors(json!({ "200": list("AmountLimit") })) },
            "put": { "summary": "Set the limit of a subject, kind and level, or remove it (max null). Administrators only; audited. Answers the limits in force.",
                "operationId": "setLimit", "requestBody": body("SetLimitRequest"),
                "responses": errors(json!({ "200": list("AmountLimit") })) } },
    })
}

fn admin_schemas() -> Value {
    let time = json!({ "type": "string", "format": "date-time" });
    json!({
        "Token": { "type": "object", "required": ["id", "owner", "name", "role", "scope", "created_at", "expires_at", "state"], "properties": {
            "id": { "type": "string" }, "owner": { "type": "string" }, "name": { "type": "string" },
            "role": { "type": "string", "enum": ["administrator", "officer", "clerk", "analyst", "viewer", "village_doctor"] },
            "scope": { "type": "string", "description": "region code prefix; empty for the whole country" },
            "created_at": time, "expires_at": time,
            "last_used_at": { "type": "string", "format": "date-time", "nullable": true },
            "revoked_at": { "type": "string", "format": "date-time", "nullable": true },
            "state": { "type": "string", "enum": ["live", "expired", "revoked"] } } },
        "UserFacilityRequest": { "type": "object", "additionalProperties": false, "properties": {
            "facility_id": { "type": "string", "nullable": true, "description": "the facility; null, absent or blank: bound to none (any facility of the scope)" } } },
        "UserFacility": { "type": "object", "required": ["id", "username", "role", "scope", "facility_id"], "properties": {
            "id": { "type": "integer" }, "username": { "type": "string" }, "role": { "type": "string" },
            "scope": { "type": "string", "description": "region code prefix; empty for the whole country" },
            "facility_id": { "type": "string", "nullable": true } } },
        "NewToken": { "type": "object", "required": ["token", "secret"], "properties": {
            "token": { "$ref": "#/components/schemas/Token" },
            "secret": { "type": "string", "description": "the bearer token; shown once, kept by the server only as a hash" } } },
        "CreateTokenRequest": { "type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 64 },
            "role": { "type": "string", "nullable": true, "enum": ["administrator", "officer", "clerk", "analyst", "viewer", "village_doctor", null], "description": "default (absent or null): the caller's role" },
            "scope": { "type": "string", "nullable": true, "description": "default (absent or null): the caller's scope" },
            "expires_in_days": { "type": "integer", "nullable": true, "minimum": 1, "maximum": 365, "description": "default (absent or null): 90" } } },
        "Slip": { "type": "object", "required": ["claim_id", "person_ref", "person_id", "name", "payments", "paid", "out_of_pocket", "voided"], "properties": {
            "claim_id": { "type": "string" }, "person_ref": { "type": "string" },
            "person_id": { "type": "string", "description": "masked unless the role may see it" },
            "name": { "type": "string", "description": "masked unless the role may see it" },
            "status": { "type": "string" }, "village_code": { "type": "string" }, "facility_id": { "type": "string" },
            "facility_level": { "type": "string" }, "kind": { "type": "string" },
            "admitted": { "type": "string", "format": "date" }, "discharged": { "type": "string", "format": "date" }, "diagnosis": { "type": "string" },
            "total_cost": { "$ref": "#/components/schemas/Money" }, "eligible_cost": { "$ref": "#/components/schemas/Money" },
            "policy": { "type": "string" },
            "payments": { "type": "array", "items": { "type": "object", "properties": { "tier": { "type": "string" }, "amount": { "$ref": "#/components/schemas/Money" } } } },
            "paid": { "$ref": "#/components/schemas/Money" }, "out_of_pocket": { "$ref": "#/components/schemas/Money" },
            "explanation": { "type": "string" }, "settled_at": { "type": "string", "format": "date-time" }, "settled_by": { "type": "string" },
            "voided": { "type": "boolean" },
            "enrolled": { "type": "boolean", "description": "whether the patient was enrolled in basic insurance for the year when the claim was settled" },
            "referred": { "type": "boolean", "description": "whether the claim came with a referral; the explanation names the rule that applied" },
            "warnings": { "type": "array", "items": { "type": "string" }, "description": "not_enrolled: ... when the patient was not enrolled for the year" },
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/BillItem" }, "description": "the bill's items with their category and eligible part; empty for a claim of totals only" } } },
        "TargetShown": { "type": "object", "required": ["direction", "value", "tolerance", "region", "text"], "properties": {
            "direction": { "type": "string", "enum": ["at_least", "at_most", "about"] },
            "value": { "type": "number" }, "tolerance": { "type": "number", "minimum": 0 },
            "region": { "type": "string" }, "year": { "type": "integer", "nullable": true }, "text": { "type": "string", "description": "as shown: ≥ 90, ≤ 10, 10 ± 3" } } },
        "Targets": { "type": "object", "required": ["items", "changes"], "properties": {
            "items": { "type": "array", "items": { "type": "object", "required": ["indicator", "region", "direction", "value", "tolerance", "origin"], "properties": {
                "indicator": { "type": "string" }, "name_zh": { "type": "string" }, "name_en": { "type": "string" }, "unit": { "type": "string" },
                "region": { "type": "string" }, "year": { "type": "integer", "nullable": true },
                "direction": { "type": "string", "enum": ["at_least", "at_most", "about"] },
                "value": { "type": "number" }, "tolerance": { "type": "number" }, "text": { "type": "string" }, "source": { "type": "string" },
                "origin": { "type": "string", "enum": ["shipped", "stored"] },
                "version": { "type": "integer", "nullable": true }, "changed_by": { "type": "string", "nullable": true },
                "changed_at": { "type": "string", "format": "date-time", "nullable": true } } } },
            "changes": { "type": "array", "items": { "type": "object", "properties": {
                "indicator": { "type": "string" }, "region": { "type": "string" }, "year": { "type": "integer", "nullable": true },
                "version": { "type": "integer" }, "removed": { "type": "boolean" },
                "direction": { "type": "string", "nullable": true }, "value": { "type": "number", "nullable": true },
                "tolerance": { "type": "number", "nullable": true }, "source": { "type": "string", "nullable": true },
                "changed_by": { "type": "string" }, "changed_at": { "type": "string", "format": "date-time" } } } } } },
        "SetTargetRequest": { "type": "object", "additionalProperties": false, "required": ["indicator"], "properties": {
            "indicator": { "type": "string" }, "region": { "type": "string", "description": "default \"\": the nation" },
            "year": { "type": "integer", "nullable": true, "minimum": 1990, "maximum": 2100, "description": "default (absent or null): every year" },
            "direction": { "type": "string", "nullable": true, "enum": ["at_least", "at_most", "about", null] }, "value": { "type": "number", "nullable": true },
            "tolerance": { "type": "number", "nullable": true, "minimum": 0 }, "source": { "type": "string", "maxLength": 500 },
            "remove": { "type": "boolean", "description": "true removes the target (then no direction, value or tolerance)" } } },
        "AmountLimit": { "type": "object", "required": ["subject", "kind", "level", "max"], "properties": {
            "subject": { "type": "string", "enum": ["claim", "measure"] },
            "kind": { "type": "string", "description": "a claim kind or a measure kind, or * for any" },
            "level": { "type": "string", "description": "a facility level for a claim, or * for any; * for a measure" },
            "max": { "$ref": "#/components/schemas/Money" } } },
        "SetLimitRequest": { "type": "object", "additionalProperties": false, "required": ["subject", "kind", "max"], "properties": {
            "subject": { "type": "string", "enum": ["claim", "measure"] },
            "kind": { "type": "string", "minLength": 1, "maxLength": 64 },
            "level": { "type": "string", "maxLength": 32 },
            "max": { "type": "string", "nullable": true, "description": "yuan, positive; null removes the row" } } },
    })
}

/// The registry by hand, the work ledger, catalogues and deadlines
/// (crate::registry, crate::ledger).
fn registry_paths() -> Value {
    let tagged = |what: &str| {
        format!(
            "Answers the {what} with its etag. Needs the casework (role: officer, administrator). Fields are named by the file columns (docs/files.md) and checked as an import row's: a bad one is a 400 naming it."
        )
    };
    json!({
        "/households": { "post": {
            "summary": format!("Create a household in a village inside the scope; a village outside it is a 404, a household_id taken a 409. {}", tagged("household")),
            "operationId": "createHousehold", "requestBody": body("CreateHouseholdRequest"),
            "responses": errors(json!({ "201": ok("HouseholdTagged") })) } },
        "/households/{id}": { "patch": {
            "summary": format!("Change a household: send its etag as read, a reason, and the fields that change. A stale etag is a 409 and changes nothing; a move to a village outside the scope is a 404. Audited with the fields before and after. {}", tagged("changed household")),
            "operationId": "changeHousehold", "parameters": [key_param("household ID")], "requestBody": body("ChangeHouseholdRequest"),
            "responses": errors(json!({ "200": ok("HouseholdTagged") })) } },
        "/persons": { "post": {
            "summary": format!("Create a person in a household inside the scope; a household outside it is a 404, a person_id taken a 409. {}", tagged("person")),
            "operationId": "createPerson", "requestBody": body("CreatePersonRequest"),
            "responses": errors(json!({ "201": ok("PersonTagged") })) } },
        "/persons/{id}": { "patch": {
            "summary": format!("Change a person (status and its day, name, diagnoses, a move to another household inside the scope): send the etag as read, a reason and the fields that change. A stale etag is a 409; a new status adds a line to the status history. {}", tagged("changed person")),
            "operationId": "changePerson", "parameters": [person_param()], "requestBody": body("ChangePersonRequest"),
            "responses": errors(json!({ "200": ok("PersonTagged") })) } },
        "/ledger": { "get": {
            "summary": "The work ledger (台账) of the caller's scope: the summary by village, township or county, the three batches of the patient ledger with what each patient is still owed, the cases with their measures, the visits, the network cases (gaps in the health network inside the scope, with the plan that fills those closed as planned). JSON: the tables (table= one of them); CSV: one table (table=, the summary by default); XLSX: a workbook of every table. Resident IDs are masked unless the role may see them. Audited; CSV and XLSX need a role that may export.",
            "operationId": "ledger",
            "parameters": [year("the year of the patient ledger, 1990 to 2100 (else a 400); default this year", 1990, 2100),
                           query("level", "the rows of the summary: village, township (default) or county", "string"),
                           query("format", "json (default), csv or xlsx", "string"),
                           query("table", "summary, serious, chronic, severe, cases or visits (or the sheet's name); json and csv only", "string")],
            "responses": errors(json!({ "200": {
                "description": "ok",
                "content": {
                    "application/json": { "schema": { "$ref": "#/components/schemas/Ledger" } },
                    "text/csv": { "schema": { "type": "string" } },
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } } } } })) } },
        "/catalogues/{kind}": { "post": {
            "summary": "Add a disease to a region's own serious or chronic list (role: officer, administrator); the region must lie inside the scope (else 404). The next monitor run's patient ledger applies it. Audited.",
            "operationId": "addCatalogueEntry", "parameters": [path_param("kind", "serious or chronic")], "requestBody": body("CatalogueEntryRequest"),
            "responses": errors(json!({ "201": ok("CatalogueEntry") })) } },
        "/case-deadlines/{region}": { "put": {
            "summary": "Set the days to verify the cases opened in a region (a code prefix inside the scope, else 404); the longest prefix of a village's code wins. Needs the casework (role: officer, administrator). Audited.",
            "operationId": "setCaseDeadline", "parameters": [path_param("region", "region code prefix: 2, 4, 6, 9 or 12 digits")], "requestBody": body("CaseDeadlineRequest"),
            "responses": errors(json!({ "200": ok("CaseDeadline") })) } },
    })
}

fn registry_schemas() -> Value {
    let text = json!({ "type": "string" });
    let amount = json!({ "$ref": "#/components/schemas/Amount" });
    let opt_amount = json!({ "oneOf": [ { "type": "string" }, { "type": "number" } ], "nullable": true, "description": "yuan, at most two decimals; empty or null for none" });
    let etag = json!({ "type": "string", "pattern": "^[0-9a-fA-F]{16}$", "description": "the etag of the record as read (GET answers it)" });
    let reason = json!({ "type": "string", "minLength": 1, "maxLength": 500, "description": "why the record changes; kept in the audit log" });
    let statuses =
        json!({ "type": "string", "enum": ["special_hardship", "low_income", "lifted", "monitored", "general"] });
    json!({
        "HouseholdFields": { "type": "object", "additionalProperties": false, "properties": {
            "household_id": { "type": "string", "maxLength": 64 }, "village_code": { "type": "string", "description": "12-digit village code" },
            "size": { "oneOf": [ { "type": "integer", "minimum": 1, "maximum": 99 }, { "type": "string" } ], "description": "1 to 99" },
            "income": amount, "consumption": opt_amount, "food": opt_amount } },
        "PersonFields": { "type": "object", "additionalProperties": false, "properties": {
            "person_id": { "type": "string", "description": "18-character resident ID" }, "household_id": text,
            "name": { "type": "string", "maxLength": 50 }, "status": statuses,
            "status_since": { "type": "string", "format": "date" },
            "diagnoses": { "oneOf": [ { "type": "string", "description": "ICD-10 codes separated by ;" }, { "type": "array", "items": { "type": "string" } } ] } } },
        "CreateHouseholdRequest": { "type": "object", "additionalProperties": false, "required": ["fields"], "properties": {
            "fields": { "$ref": "#/components/schemas/HouseholdFields", "description": "household_id, village_code, size and income required" } } },
        "ChangeHouseholdRequest": { "type": "object", "additionalProperties": false, "required": ["etag", "reason", "fields"], "properties": {
            "etag": etag, "reason": reason,
            "fields": { "$ref": "#/components/schemas/HouseholdFields", "description": "the fields that change; household_id cannot" } } },
        "CreatePersonRequest": { "type": "object", "additionalProperties": false, "required": ["fields"], "properties": {
            "fields": { "$ref": "#/components/schemas/PersonFields", "description": "every field but diagnoses required" } } },
        "ChangePersonRequest": { "type": "object", "additionalProperties": false, "required": ["etag", "reason", "fields"], "properties": {
            "etag": etag, "reason": reason,
            "fields": { "$ref": "#/components/schemas/PersonFields", "description": "the fields that change; person_id cannot" } } },
        "HouseholdTagged": { "allOf": [ { "$ref": "#/components/schemas/Household" }, { "type": "object", "required": ["etag"], "properties": { "etag": etag } } ] },
        "PersonTagged": { "allOf": [ { "$ref": "#/components/schemas/Person" }, { "type": "object", "properties": {
            "etag": { "type": "string", "nullable": true, "description": "null for a role that sees the person masked" } } } ] },
        "Ledger": { "type": "object", "required": ["scope", "year", "level", "as_of", "tables"], "properties": {
            "scope": text, "year": { "type": "integer" }, "level": { "type": "string", "enum": ["village", "township", "county"] },
            "as_of": { "type": "string", "format": "date", "description": "the day overdue cases and this quarter's follow-ups are counted on" },
            "tables": { "type": "array", "items": { "$ref": "#/components/schemas/LedgerTable" } } } },
        "LedgerTable": { "type": "object", "required": ["key", "name", "header", "rows"], "properties": {
            "key": { "type": "string", "enum": ["summary", "serious", "chronic", "severe", "cases", "visits", "network_cases"] },
            "name": { "type": "string", "description": "the sheet's name" },
            "header": { "type": "array", "items": text },
            "rows": { "type": "array", "items": { "type": "array", "items": { "oneOf": [ { "type": "string" }, { "type": "integer" } ], "nullable": true,
                "description": "text, a whole number, money in yuan as text, or null" } } } } },
        "CatalogueEntryRequest": { "type": "object", "additionalProperties": false, "required": ["region", "name_zh", "name_en", "icd10_prefixes"], "properties": {
            "region": { "type": "string", "minLength": 1, "maxLength": 12, "description": "region code prefix inside the scope: 2, 4, 6, 9 or 12 digits" },
            "name_zh": { "type": "string", "minLength": 1, "maxLength": 100 }, "name_en": { "type": "string", "maxLength": 200 },
            "icd10_prefixes": { "type": "array", "minItems": 1, "maxItems": 100, "items": { "type": "string", "description": "an ICD-10 code or prefix, like C16 or C91.0" } },
            "since": { "type": "integer", "nullable": true, "minimum": 1990, "maximum": 2100, "description": "the year the disease joins the list, 1990 to 2100; always when absent or null" } } },
        "CatalogueEntry": { "type": "object", "properties": {
            "kind": { "type": "string", "enum": ["serious", "chronic"] }, "region": text, "name_zh": text, "name_en": text,
            "icd10_prefixes": { "type": "array", "items": text }, "since": { "type": "integer", "nullable": true } } },
        "CaseDeadlineRequest": { "type": "object", "additionalProperties": false, "required": ["verify_days"], "properties": {
            "verify_days": { "type": "integer", "minimum": 1, "maximum": 365 },
            "close_days": { "type": "integer", "minimum": 1, "maximum": 730, "nullable": true,
                            "description": "days to close, no fewer than verify_days; absent or null for the default (180) or a wider region's" } } },
        "CaseDeadline": { "type": "object", "properties": { "region": text, "verify_days": { "type": "integer" },
            "close_days": { "type": "integer", "nullable": true } } },
    })
}

/// Pairing and telemedicine (crate::pairing, docs/coverage.md "Pairing and
/// telemedicine", docs/indicators.md "Pairing and telemedicine").
fn pairing_paths() -> Value {
    json!({
        "/pairings": {
            "get": {
                "summary": "The pairings (对口帮扶) whose county hospital lies inside the caller's scope, in the order recorded: the helping hospital (municipal or provincial), the county hospital, the first and last days, and the staff sent with their terms.",
                "operationId": "listPairings",
                "responses": errors(json!({ "200": list("Pairing") })) },
            "post": {
                "summary": "Record a pairing, optionally with one of the staff it sends (role: officer, administrator; audited). Refused with 422 naming the field: a hospital not in the store, the county hospital outside the caller's scope, hospitals of the wrong kinds (the helping one municipal or provincial, the other a county hospital), a hospital closed before the start, a pairing of the same hospitals sharing a day with another, a practitioner sent who is not in the store, a term sharing a day with another term of the same person. The same pairing given again (same hospitals and start) sets its end, ending the terms still running then; the same term given again (same person and first day) sets its end and role. Answers the scope's pairings.",
                "operationId": "addPairing", "requestBody": body("PairingRequest"),
                "responses": errors(json!({ "200": list("Pairing") })) } },
        "/pairings/indicators": { "get": {
            "summary": "The pairing indicators of the scope on a day, by county, city, province and nation (the levels above the caller's scope left out): poor counties (the national list of 832) whose county hospital is paired; township centres linked by telemedicine; inpatients treated outside their county, from the claims of the year to the day; the diseases (3-character ICD-10 categories) the county hospitals treat against the median of the province's counties, and the counties at 90% of it or more.",
            "operationId": "pairingIndicators",
            "parameters": [{ "name": "on", "in": "query", "required": false,
                "description": "the day (YYYY-MM-DD) the registers are read on; claims from 1 January of its year to it; absent or blank: today",
                "schema": { "anyOf": [ { "type": "string", "format": "date" }, { "type": "string", "pattern": "^\\s*$" } ] } }],
            "responses": errors(json!({ "200": ok("PairingIndicators") })) } },
        "/telemedicine": {
            "get": {
                "summary": "The telemedicine links whose county hospital lies inside the caller's scope, in the order recorded.",
                "operationId": "listTelemedicineLinks",
                "responses": errors(json!({ "200": list("TelemedicineLink") })) },
            "post": {
                "summary": "Record a telemedicine link of a county hospital to a township centre of its county (role: officer, administrator; audited). Refused with 422 naming the field: a facility not in the store, the county hospital outside the caller's scope, facilities of the wrong kinds or of two counties, a facility closed before the start, the same link (facilities and kind) sharing a day with another. The same link given again (same facilities, kind and start) sets its end. Answers the scope's links.",
                "operationId": "addTelemedicineLink", "requestBody": body("TelemedicineLinkRequest"),
                "responses": errors(json!({ "200": list("TelemedicineLink") })) } },
    })
}

fn pairing_schemas() -> Value {
    let date = json!({ "type": "string", "format": "date" });
    let date_or_null = json!({ "type": "string", "format": "date", "nullable": true });
    let text = json!({ "type": "string" });
    let share = json!({ "type": "number", "nullable": true, "description": "0 to 1; null when the denominator is 0" });
    let count = json!({ "type": "integer", "minimum": 0 });
    let kinds = json!({ "type": "string", "enum": ["consultation", "imaging", "ecg", "pathology", "education"] });
    json!({
        "Pairing": { "type": "object",
            "required": ["id", "helping_id", "helping_name", "county_hospital_id", "county_hospital_name", "region_code", "start", "end", "staff", "changed_by", "changed_at"],
            "properties": {
                "id": { "type": "integer" },
                "helping_id": text.clone(), "helping_name": text.clone(),
                "county_hospital_id": text.clone(), "county_hospital_name": text.clone(),
                "region_code": { "type": "string", "description": "the county hospital's region, 12 digits" },
                "start": date.clone(), "end": date_or_null.clone(),
                "staff": { "type": "array", "items": { "type": "object", "required": ["practitioner_id", "name", "role", "from", "to"], "properties": {
                    "practitioner_id": { "type": "string", "nullable": true }, "name": text.clone(), "role": text.clone(),
                    "from": date.clone(), "to": date_or_null.clone() } } },
                "changed_by": text.clone(), "changed_at": { "type": "string", "format": "date-time" } } },
        "PairingRequest": { "type": "object", "required": ["helping_id", "county_hospital_id", "start"], "additionalProperties": false, "properties": {
            "helping_id": { "type": "string", "minLength": 1, "maxLength": 64, "description": "a municipal or provincial hospital" },
            "county_hospital_id": { "type": "string", "minLength": 1, "maxLength": 64 },
            "start": date.clone(),
            "end": opt_date("the last day (included), not before start; absent, null or blank: no end yet"),
            "staff": { "type": "object", "nullable": true, "required": ["role", "from"], "additionalProperties": false, "properties": {
                "practitioner_id": { "type": "string", "nullable": true, "description": "a practitioner of the store; absent: give the name" },
                "name": { "type": "string", "nullable": true },
                "role": text.clone(),
                "from": { "type": "string", "format": "date", "description": "not before the pairing's start" },
                "to": opt_date("the last day of the term, by the pairing's end") } } } },
        "TelemedicineLink": { "type": "object",
            "required": ["id", "county_hospital_id", "county_hospital_name", "township_id", "township_name", "region_code", "kind", "start", "end", "changed_by", "changed_at"],
            "properties": {
                "id": { "type": "integer" },
                "county_hospital_id": text.clone(), "county_hospital_name": text.clone(),
                "township_id": text.clone(), "township_name": text.clone(),
                "region_code": { "type": "string", "description": "the township centre's region, 12 digits" },
                "kind": kinds.clone(), "start": date.clone(), "end": date_or_null.clone(),
                "changed_by": text.clone(), "changed_at": { "type": "string", "format": "date-time" } } },
        "TelemedicineLinkRequest": { "type": "object", "required": ["county_hospital_id", "township_id", "kind", "start"], "additionalProperties": false, "properties": {
            "county_hospital_id": { "type": "string", "minLength": 1, "maxLength": 64 },
            "township_id": { "type": "string", "minLength": 1, "maxLength": 64 },
            "kind": { "type": "string", "description": "consultation, imaging, ecg, pathology or education (or 远程会诊, 远程影像, 远程心电, 远程病理, 远程教育)" },
            "start": date.clone(),
            "end": opt_date("the last day (included), not before start; absent, null or blank: no end yet") } },
        "PairingIndicators": { "type": "object", "required": ["on", "from", "rows", "notes"], "properties": {
            "on": date.clone(), "from": date.clone(),
            "notes": { "type": "array", "items": text.clone() },
            "rows": { "type": "array", "items": { "type": "object",
                "required": ["level", "code", "name", "poor_counties", "poor_counties_paired", "paired_share", "townships", "townships_linked", "linked_share",
                             "inpatients", "inpatients_outside", "outside_share", "counties_with_hospital", "diseases", "median", "diseases_of_median", "counties_at_median"],
                "properties": {
                    "level": { "type": "string", "enum": ["nation", "province", "city", "county"] },
                    "code": { "type": "string", "nullable": true, "description": "2, 4 or 6 digits; null for the nation" },
                    "name": text.clone(),
                    "poor_counties": count.clone(), "poor_counties_paired": count.clone(), "paired_share": share.clone(),
                    "townships": count.clone(), "townships_linked": count.clone(), "linked_share": share.clone(),
                    "inpatients": count.clone(), "inpatients_outside": count.clone(), "outside_share": share.clone(),
                    "counties_with_hospital": count.clone(),
                    "diseases": { "type": "number", "nullable": true, "description": "a county: the distinct diseases its county hospitals treat; higher levels: the median of their counties'" },
                    "median": { "type": "number", "nullable": true, "description": "a county: the median of the counties of its province" },
                    "diseases_of_median": { "type": "number", "nullable": true, "description": "a county: its diseases over the median" },
                    "counties_at_median": count } } } } },
    })
}

/// An optional day of a request: a date, or absent, null or blank (only white
/// space) for none, as the handlers read it (`crate::work`).
fn opt_date(desc: &str) -> Value {
    json!({ "nullable": true, "description": desc,
            "anyOf": [ { "type": "string", "format": "date" }, { "type": "string", "pattern": "^\\s*$" } ] })
}

/// The daily casework (crate::work): cases, visits, contracts.
fn work_paths() -> Value {
    let id = || number_param("case ID");
    json!({
        "/cases": {
            "get": {
                "summary": "Cases in scope: those awaiting verification past their deadline first (overdue), then by deadline", "operationId": "listCases",
                "parameters": [query("state", "open, assigned, verified, assisting or closed", "string"), query("open", "true: only open cases (every state but closed)", "boolean"),
                               query("overdue", "true: only cases awaiting verification past their deadline", "boolean"), query("assignee", "the responsible person", "string"),
                               query("household", "household ID", "string"), limit()],
                "responses": errors(json!({ "200": list("Case") })) },
            "post": {
                "summary": "Open a case for a household in scope (role: officer, administrator); 409 when the household has an open case. The household's open alerts join it.",
                "operationId": "openCase", "requestBody": body("OpenCaseRequest"),
                "responses": errors(json!({ "201": ok("CaseRecord") })) } },
        "/cases/{id}": { "get": {
            "summary": "One case with its alerts, measures, visits and history", "operationId": "getCase",
            "parameters": [id()], "responses": errors(json!({ "200": ok("CaseRecord") })) } },
        "/cases/{id}/assign": { "post": {
            "summary": "Make someone responsible for verifying the case by a deadline (default: the region's). Every move names the version it was made on; a stale version is a 409 and changes nothing.",
            "operationId": "assignCase", "parameters": [id()], "requestBody": body("AssignRequest"),
            "responses": errors(json!({ "200": ok("CaseRecord") })) } },
        "/cases/{id}/verify": { "post": {
            "summary": "Verify the case on a visit to its household, and decide whether the household becomes monitored (its general and lifted members become monitored from the visit's day)",
            "operationId": "verifyCase", "parameters": [id()], "requestBody": body("VerifyRequest"),
            "responses": errors(json!({ "200": ok("CaseRecord") })) } },
        "/cases/{id}/measures": { "post": {
            "summary": "Record an assistance measure of a verified case", "operationId": "addCaseMeasure",
            "parameters": [id()], "requestBody": body("CaseMeasureRequest"),
            "responses": errors(json!({ "201": ok("CaseRecord") })) } },
        "/cases/{id}/close": { "post": {
            "summary": "Close the case: risk_eliminated needs a measure and a verification on or after the last one; no_risk needs a verification that decided the household is not monitored, no measure, and a note. A refused close is a 409 with the reason. The case's alerts close with it.",
            "operationId": "closeCase", "parameters": [id()], "requestBody": body("CloseRequest"),
            "responses": errors(json!({ "200": ok("CaseRecord") })) } },
        "/visits": {
            "get": {
                "summary": "Visits in scope, the latest first", "operationId": "listVisits",
                "parameters": [query("household", "household ID", "string"), query("person", "the person's reference (person_ref), or for a role that sees persons in clear their resident ID", "string"), limit()],
                "responses": errors(json!({ "200": list("Visit") })) },
            "post": {
                "summary": "Record a household visit or a follow-up of one patient (role: officer, administrator); a household outside the scope is a 404. Verifications are made on their case.",
                "operationId": "recordVisit", "requestBody": body("VisitRequest"),
                "responses": errors(json!({ "201": ok("Visit") })) } },
        "/households/{id}/visits": { "get": {
            "summary": "A household's visits, the latest first", "operationId": "householdVisits",
            "parameters": [key_param("household ID"), limit()],
            "responses": errors(json!({ "200": list("Visit") })) } },
        "/contracts": {
            "get": {
                "summary": "Family-doctor contracts in scope, the latest first", "operationId": "listContracts",
                "parameters": [query("person", "the person's reference (person_ref), or for a role that sees persons in clear their resident ID", "string"), limit()],
                "responses": errors(json!({ "200": list("Contract") })) },
            "post": {
                "summary": "Record a family-doctor contract of a person in scope (role: officer, administrator); a contract of the same person and day replaces the one kept",
                "operationId": "signContract", "requestBody": body("ContractRequest"),
                "responses": errors(json!({ "201": ok("Contract") })) } },
    })
}

fn work_schemas() -> Value {
    let date = json!({ "type": "string", "format": "date" });
    let time = json!({ "type": "string", "format": "date-time" });
    let text = json!({ "type": "string" });
    let states = json!({ "type": "string", "enum": ["open", "assigned", "verified", "assisting", "closed"] });
    let reason = json!({ "type": "string", "enum": ["risk_eliminated", "no_risk"] });
    // The limits the handlers check (crate::work): a 400 beyond them.
    let version = json!({ "type": "integer", "format": "int64", "minimum": 1, "description": "the version the move is made on, as read" });
    let id64 = json!({ "type": "string", "minLength": 1, "maxLength": 64 });
    let visitors = json!({ "type": "string", "minLength": 1, "maxLength": 200 });
    let short_text = json!({ "type": "string", "minLength": 1, "maxLength": 100 });
    let long_text = json!({ "type": "string", "maxLength": 2000 });
    let next_date = opt_date("after date; absent, null or blank for none");
    json!({
        "Case": { "type": "object", "required": ["id", "household_id", "village_code", "state", "overdue", "due", "version"], "properties": {
            "id": { "type": "integer" }, "household_id": text, "village_code": text, "state": states,
            "overdue": { "type": "boolean", "description": "awaiting verification past its deadline" },
            "source": { "type": "string", "enum": ["alert", "visit", "officer"] }, "opened_at": time, "opened_by": text,
            "assignee": text, "due": date, "verified_on": { "type": "string", "format": "date", "nullable": true },
            "close_due": date, "late_to_close": { "type": "boolean", "description": "still open past its deadline to close" },
            "monitored": { "type": "boolean", "nullable": true }, "closed_at": { "type": "string", "format": "date-time", "nullable": true }, "closed_on": { "type": "string", "format": "date", "nullable": true, "description": "the day it was closed, counted against close_due" },
            "close_reason": { "type": "string", "enum": ["risk_eliminated", "no_risk"], "nullable": true }, "note": text,
            "version": { "type": "integer", "description": "raised by every move; a move names the version it was made on" }, "updated_at": time } },
        "CaseRecord": { "allOf": [ { "$ref": "#/components/schemas/Case" }, { "type": "object", "properties": {
            "alerts": { "type": "array", "items": { "type": "integer" } },
            "measures": { "type": "array", "items": { "$ref": "#/components/schemas/CaseMeasure" } },
            "visits": { "type": "array", "items": { "$ref": "#/components/schemas/Visit" } },
            "events": { "type": "array", "items": { "$ref": "#/components/schemas/CaseEvent" } } } } ] },
        "CaseMeasure": { "type": "object", "properties": {
            "id": { "type": "integer" }, "kind": text, "amount": { "$ref": "#/components/schemas/Money" }, "fund": text, "date": date,
            "note": text, "recorded_by": text, "recorded_at": time } },
        "CaseEvent": { "type": "object", "properties": {
            "at": time, "actor": text, "action": { "type": "string", "enum": ["open", "assign", "verify", "measure", "close"] },
            "from": { "type": "string", "nullable": true }, "to": states, "detail": text } },
        "Visit": { "type": "object", "required": ["id", "household_id", "kind", "date", "visitors"], "properties": {
            "id": { "type": "integer" }, "household_id": text, "village_code": text,
            "person_ref": { "type": "string", "nullable": true, "description": "the follow-up's patient's reference" },
            "person_id": { "type": "string", "nullable": true, "description": "masked unless the role may see it" },
            "kind": { "type": "string", "enum": ["household", "verification", "follow_up"] }, "date": date, "visitors": text, "findings": text,
            "next_date": { "type": "string", "format": "date", "nullable": true }, "case_id": { "type": "integer", "nullable": true },
            "recorded_by": text, "recorded_at": time } },
        "Contract": { "type": "object", "required": ["id", "person_ref", "person_id", "practitioner_id", "signed", "ends"], "properties": {
            "id": { "type": "integer" }, "person_ref": { "type": "string", "description": "the patient's reference" }, "person_id": { "type": "string", "description": "masked unless the role may see it" },
            "practitioner_id": text, "village_code": text, "signed": date, "ends": date, "recorded_by": text, "recorded_at": time } },
        "OpenCaseRequest": { "type": "object", "additionalProperties": false, "required": ["household_id"], "properties": {
            "household_id": id64, "note": long_text } },
        "AssignRequest": { "type": "object", "additionalProperties": false, "required": ["version", "assignee"], "properties": {
            "version": version, "assignee": { "type": "string", "minLength": 1, "maxLength": 64 },
            "due": opt_date("not before today; default (absent, null or blank): the region's verification deadline from today") } },
        "VerifyRequest": { "type": "object", "additionalProperties": false, "required": ["version", "date", "visitors", "findings", "monitored"], "properties": {
            "version": version, "date": { "type": "string", "format": "date", "description": "the visit's day, not in the future" },
            "visitors": visitors, "findings": { "type": "string", "minLength": 1, "maxLength": 2000 }, "next_date": next_date.clone(),
            "monitored": { "type": "boolean", "description": "whether the household becomes monitored" } } },
        "CaseMeasureRequest": { "type": "object", "additionalProperties": false, "required": ["version", "kind", "amount", "fund", "date"], "properties": {
            "version": version, "kind": short_text, "amount": { "$ref": "#/components/schemas/Amount" }, "fund": short_text,
            "date": { "type": "string", "format": "date", "description": "not in the future" }, "note": long_text } },
        "CloseRequest": { "type": "object", "additionalProperties": false, "required": ["version", "reason"], "properties": {
            "version": version, "reason": reason, "note": { "type": "string", "maxLength": 2000, "description": "required for no_risk" } } },
        "VisitRequest": { "type": "object", "additionalProperties": false, "required": ["household_id", "kind", "date", "visitors"], "properties": {
            "household_id": id64, "person_id": { "type": "string", "nullable": true, "description": "18-character resident ID, a member of the household; required for a follow-up (absent or null for a household visit)" },
            "kind": { "type": "string", "enum": ["household", "follow_up"] }, "date": { "type": "string", "format": "date", "description": "not in the future" },
            "visitors": visitors, "findings": long_text, "next_date": next_date,
            "case_id": { "type": "integer", "format": "int64", "minimum": 1, "nullable": true, "description": "an open case of the household the visit serves; absent or null for none" } } },
        "ContractRequest": { "type": "object", "additionalProperties": false, "required": ["person_id", "practitioner_id", "signed", "ends"], "properties": {
            "person_id": { "type": "string", "description": "18-character resident ID" }, "practitioner_id": id64, "signed": date,
            "ends": { "type": "string", "format": "date", "description": "after signed" } } },
    })
}

/// The years a report may be asked for: from 2000 to next year, the years whose
/// indicators are kept (`app::kept::check_year`, on the casework's day).
fn report_years() -> (i32, i32) {
    use chrono::Datelike;
    (2000, crate::work::today().year() + 1)
}

/// Registry, alerts, settlement, reports and the what-if.
fn base() -> Value {
    let (first, last) = report_years();
    let money = json!({ "type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "description": "yuan with two decimals" });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "SafetyNet API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Registry, alerts, casework and indicators of the health poverty-alleviation programme. Every read is limited to the caller's region scope; a record outside it answers 404. Resident IDs and names are masked unless the caller's role may see them."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "paths": {
            "/persons": { "get": {
                "summary": "Search persons in scope", "operationId": "searchPersons",
                "parameters": [query("q", "resident ID prefix, name part or household ID; a role that sees persons masked searches by household ID only", "string"), limit()],
                "responses": errors(json!({ "200": list("Person") })) } },
            "/persons/{id}": { "get": {
                "summary": "A person's record with claims and alerts (audited)", "operationId": "getPerson",
                "parameters": [person_param()],
                "responses": errors(json!({ "200": ok("PersonRecord") })) } },
            "/households": { "get": {
                "summary": "Search households in scope", "operationId": "searchHouseholds",
                "parameters": [query("q", "household ID part or village code prefix", "string"), limit()],
                "responses": errors(json!({ "200": list("Household") })) } },
            "/households/{id}": { "get": {
                "summary": "A household with its members and alerts (audited)", "operationId": "getHousehold",
                "parameters": [key_param("household ID")],
                "responses": errors(json!({ "200": ok("HouseholdRecord") })) } },
            "/alerts": { "get": {
                "summary": "The alert queue in scope", "operationId": "listAlerts",
                "parameters": [query("state", "open, verifying, assisting, resolved or dismissed", "string"), query("rule", "rule name", "string"),
                               query("region", "region code prefix", "string"), limit()],
                "responses": errors(json!({ "200": list("Alert") })) } },
            "/alerts/{id}": { "get": {
                "summary": "One alert with its history", "operationId": "getAlert",
                "parameters": [number_param("alert ID")],
                "responses": errors(json!({ "200": ok("Alert") })) } },
            "/alerts/{id}/transition": { "post": {
                "summary": "Move an alert to its next state (role: officer, administrator)", "operationId": "transitionAlert",
                "parameters": [number_param("alert ID")], "requestBody": body("TransitionRequest"),
                "responses": errors(json!({ "200": ok("Alert") })) } },
            "/alerts/{id}/measures": { "post": {
                "summary": "Record an assistance measure on an alert", "operationId": "addMeasure",
                "parameters": [number_param("alert ID")], "requestBody": body("MeasureRequest"),
                "responses": errors(json!({ "201": ok("Alert") })) } },
            "/settlements": { "post": {
                "summary": "Settle a claim in real time (role: clerk, officer, administrator). The claim names its facility (facility_id), which must be stored and inside the caller's scope: another county's facility is answered 404 as an unknown one. Claims are keyed by facility and claim_id: another facility's claim of the same claim_id is another claim. Idempotent by that key: the same claim again answers 200 with the stored result and is not counted twice; different data (or other items) under a settled key is a 409. A claim may carry its bill's items instead of its eligible cost: the eligible cost is computed from them against the catalogue (an item not in it, an amount that is not quantity × unit price, a total that is not the items' sum: a 422 naming the line), and the answer lists them with their category and eligible part.",
                "operationId": "settleClaim", "requestBody": body("ClaimRequest"),
                "responses": errors(json!({ "201": ok("Settlement"), "200": ok("Settlement") })) } },
            "/claims/{id}/void": { "post": {
                "summary": "Void a settled claim, by its key (the claim ID at its facility); re-settles the person's other claims of the year and reports the differences. A claim outside the caller's scope is answered 404 as an unknown one.", "operationId": "voidClaim",
                "parameters": [key_param("claim ID"), facility_param()],
                "responses": errors(json!({ "200": ok("VoidResult") })) } },
            "/reports": { "get": {
                "summary": "The programme indicators of the caller's scope by region level and period. Rows outside the scope (and regions above it) never appear. CSV and XLSX need a role that may export.",
                "operationId": "report",
                "parameters": [year(&format!("{first} to {last} (next year), the years whose indicators are kept: outside 1990 to 2100 a 400, else a 422; default the latest year with a policy"), first, last),
                               query("level", "province, city, county, township, village; comma-separated or repeated; default the scope's level and the one below", "string"),
                               query("period", "year (default), quarter or month", "string"),
                               query("format", "json (default), csv or xlsx", "string"),
                               query("compare", "previous-year: each value gains the same period's value a year before and the change; regions: each value gains the values of the row's province and of the nation in the same period (values only, never their numerators or denominators: aggregate figures shown to every scope, docs/indicators.md); both comma-separated or repeated", "string"),
                               query("counties", "all (default), poverty (the 832 national poverty counties, whatever their exit year) or other", "string")],
                "responses": errors(json!({ "200": {
                    "description": "ok",
                    "content": {
                        "application/json": { "schema": { "$ref": "#/components/schemas/Report" } },
                        "text/csv": { "schema": { "type": "string" } },
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } } } } })) } },
            "/whatif": { "post": {
                "summary": "Compare a draft settlement policy with the policies in force over the scope's stored claims of a year, by county (role: analyst, administrator). Nothing is stored. A draft that does not parse is a 422 saying where and why.",
                "operationId": "whatIf", "requestBody": body("WhatIfRequest"),
                "responses": errors(json!({ "200": ok("WhatIf") })) } },
            "/indicators/summary": { "get": {
                "summary": "Headline indicators of the caller's scope", "operationId": "summary",
                "responses": errors(json!({ "200": ok("Summary") })) } },
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "an API token created on the users page" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error", "message"], "properties": {
                    "error": { "type": "string", "enum": crate::error::KINDS },
                    "message": { "type": "string" } } },
                "Money": money,
                "SignedMoney": signed_money(),
                "Person": { "type": "object", "required": ["person_ref", "person_id", "household_id", "name", "status", "status_since", "village_code", "diagnoses"], "properties": {
                    "person_ref": { "type": "string", "pattern": "^[0-9a-f]{32}$", "description": "the person's opaque reference, for links and later calls (/persons/{person_ref}), the same for every role" },
                    "person_id": { "type": "string", "description": "masked (110105********002X) unless the role may see it" },
                    "household_id": { "type": "string" },
                    "name": { "type": "string", "description": "masked (张**) unless the role may see it" },
                    "status": { "type": "string", "enum": ["special_hardship", "low_income", "lifted", "monitored", "general"] },
                    "status_since": { "type": "string", "format": "date" },
                    "village_code": { "type": "string" },
                    "diagnoses": { "type": "array", "items": { "type": "string" } } } },
                "PersonRecord": { "allOf": [ { "$ref": "#/components/schemas/Person" }, { "type": "object", "properties": {
                    "etag": { "type": "string", "nullable": true, "description": "what a change sends back (PATCH /persons/{id}); null for a role that sees the person masked" },
                    "batches": { "type": "array", "items": { "type": "string" } },
                    "claims": { "type": "array", "items": { "$ref": "#/components/schemas/Claim" } },
                    "alerts": { "type": "array", "items": { "$ref": "#/components/schemas/Alert" } } } } ] },
                "Claim": { "type": "object", "properties": {
                    "claim_id": { "type": "string" }, "facility_id": { "type": "string", "description": "the facility that submitted the claim (empty for a claim imported without one); with claim_id, the claim's key" },
                    "discharged": { "type": "string", "format": "date" },
                    "kind": { "type": "string" }, "facility_level": { "type": "string" }, "diagnosis": { "type": "string" },
                    "total_cost": { "$ref": "#/components/schemas/Money" },
                    "payments": { "type": "array", "items": { "type": "object", "properties": { "tier": { "type": "string" }, "amount": { "$ref": "#/components/schemas/Money" } } } },
                    "out_of_pocket": money_or_null("null while the claim is not settled") } },
                "Household": { "type": "object", "required": ["household_id", "village_code", "size", "income"], "properties": {
                    "household_id": { "type": "string" }, "village_code": { "type": "string" }, "size": { "type": "integer" },
                    "income": { "$ref": "#/components/schemas/Money" }, "consumption": money_or_null("null where not recorded"), "food": money_or_null("null where not recorded") } },
                "HouseholdRecord": { "allOf": [ { "$ref": "#/components/schemas/Household" }, { "type": "object", "properties": {
                    "etag": { "type": "string", "description": "what a change sends back (PATCH /households/{id})" },
                    "members": { "type": "array", "items": { "$ref": "#/components/schemas/Person" } },
                    "alerts": { "type": "array", "items": { "$ref": "#/components/schemas/Alert" } } } } ] },
                "Alert": { "type": "object", "required": ["id", "rule", "household_id", "village_code", "year", "value", "threshold", "state"], "properties": {
                    "id": { "type": "integer" }, "rule": { "type": "string" }, "household_id": { "type": "string" }, "village_code": { "type": "string" },
                    "year": { "type": "integer" }, "value": { "type": "string" }, "threshold": { "type": "string" },
                    "state": { "type": "string", "enum": ["open", "verifying", "assisting", "resolved", "dismissed"] },
                    "transitions": { "type": "array", "items": { "type": "object", "properties": {
                        "from": { "type": "string" }, "to": { "type": "string" }, "by": { "type": "string" }, "at": { "type": "string", "format": "date-time" }, "note": { "type": "string" } } } },
                    "measures": { "type": "array", "items": { "type": "object", "properties": {
                        "kind": { "type": "string" }, "by": { "type": "string" }, "amount": { "$ref": "#/components/schemas/Money" }, "note": { "type": "string" }, "at": { "type": "string", "format": "date-time" } } } } } },
                "TransitionRequest": { "type": "object", "additionalProperties": false, "required": ["to"], "properties": {
                    "to": { "type": "string", "enum": ["verifying", "assisting", "resolved", "dismissed"] },
                    "note": { "type": "string", "description": "required when dismissing" } } },
                "MeasureRequest": { "type": "object", "additionalProperties": false, "required": ["kind", "amount"], "properties": {
                    "kind": { "type": "string", "minLength": 1, "maxLength": 100 }, "amount": { "type": "string", "description": "yuan, at most two decimals" }, "note": { "type": "string" } } },
                "Amount": { "oneOf": [ { "type": "string" }, { "type": "number" } ], "description": "yuan, at most two decimals; a string keeps it exact" },
                "ClaimRequest": { "type": "object", "additionalProperties": false,
                    "description": "a claim with its totals (total_cost and eligible_cost, both required), or with its bill's items (items; the eligible cost is computed from them and must be left out; total_cost, if given, must equal the items' sum), else a 422",
                    "required": ["claim_id", "facility_id", "person_id", "facility_level", "kind", "admitted", "discharged"], "properties": {
                    "claim_id": { "type": "string", "minLength": 1, "maxLength": 64 }, "person_id": { "type": "string", "description": "18-character resident ID" },
                    "facility_level": { "type": "string", "enum": ["village", "township", "county", "municipal", "provincial", "out_of_province"] },
                    "kind": { "type": "string", "enum": ["inpatient", "outpatient", "chronic_outpatient"] },
                    "admitted": { "type": "string", "format": "date" }, "discharged": { "type": "string", "format": "date" },
                    "total_cost": { "$ref": "#/components/schemas/Amount" }, "eligible_cost": { "$ref": "#/components/schemas/Amount" },
                    "diagnosis": { "type": "string" },
                    "facility_id": { "type": "string", "minLength": 1, "maxLength": 64, "description": "the facility that submitted the claim: a stored facility inside the caller's scope (else a 404, as for an unknown one); without it, a 422; a clerk bound to another facility gets a 403" },
                    "referred": { "type": "boolean", "nullable": true, "description": "whether the patient came with a referral (转诊); absent or null: not referred. A policy may pay claims above county level without one at other rates (docs/settlement.md, \"Referral\")" },
                    "items": { "type": "array", "minItems": 1, "maxItems": 2000, "items": { "$ref": "#/components/schemas/BillItemRequest" },
                        "description": "the bill's items, priced against the catalogue of the facility's province for the year of discharge (docs/catalogue.md)" } } },
                "Payment": { "type": "object", "properties": { "tier": { "type": "string" }, "amount": { "$ref": "#/components/schemas/Money" } } },
                "PaymentDifference": { "type": "object", "properties": { "tier": { "type": "string" }, "amount": { "$ref": "#/components/schemas/SignedMoney" } } },
                "Settlement": { "type": "object", "properties": {
                    "claim_id": { "type": "string" }, "facility_id": { "type": "string" }, "person_id": { "type": "string" }, "year": { "type": "integer" }, "status": { "type": "string" },
                    "policy": { "type": "string" }, "total_cost": { "$ref": "#/components/schemas/Money" }, "eligible_cost": { "$ref": "#/components/schemas/Money" },
                    "payments": { "type": "array", "items": { "$ref": "#/components/schemas/Payment" } },
                    "out_of_pocket": { "$ref": "#/components/schemas/Money" }, "replayed": { "type": "boolean" },
                    "enrolled": { "type": "boolean", "description": "whether the person is enrolled in basic medical insurance for the claim's year (docs/desk.md)" },
                    "referred": { "type": "boolean", "description": "whether the claim came with a referral" },
                    "warnings": { "type": "array", "items": { "type": "string" }, "description": "what the desk must tell the patient: `not_enrolled: ...` when the person is not enrolled for the year (the tiers with requires_enrolment paid nothing); empty otherwise" },
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/BillItem" }, "description": "the bill's items with their category and eligible part; empty for a claim of totals only" } } },
                "VoidResult": { "type": "object", "properties": {
                    "voided": { "type": "string", "description": "the voided claim's ID" }, "facility_id": { "type": "string", "description": "the voided claim's facility" }, "year": { "type": "integer" },
                    "settlements": { "type": "array", "items": { "type": "object", "properties": { "claim_id": { "type": "string" }, "facility_id": { "type": "string" },
                        "payments": { "type": "array", "items": { "$ref": "#/components/schemas/Payment" } }, "out_of_pocket": { "$ref": "#/components/schemas/Money" } } } },
                    "differences": { "type": "array", "description": "every claim whose settlement changed, new minus old: the voided claim refunded whole (negative), the others as re-settled",
                        "items": { "type": "object", "properties": { "claim_id": { "type": "string" }, "facility_id": { "type": "string" },
                        "payments": { "type": "array", "items": { "$ref": "#/components/schemas/PaymentDifference" } },
                        "out_of_pocket": { "$ref": "#/components/schemas/SignedMoney" } } } } } },
                "Report": { "type": "object", "required": ["scope", "year", "period", "levels", "indicators", "rows"], "properties": {
                    "scope": { "type": "string" }, "year": { "type": "integer" }, "period": { "type": "string", "enum": ["year", "quarter", "month"] },
                    "levels": { "type": "array", "items": { "type": "string" } },
                    "unsettled_claims": { "type": "integer", "description": "claims of the year not settled yet, left out of the claim figures" },
                    "notes": { "type": "array", "items": { "type": "string" } },
                    "indicators": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "string" }, "name_zh": { "type": "string" }, "name_en": { "type": "string" },
                        "unit": { "type": "string", "enum": ["share", "percent", "amount", "count"] }, "formula": { "type": "string" } } } },
                    "rows": { "type": "array", "items": { "type": "object", "properties": {
                        "level": { "type": "string" }, "region_code": { "type": "string" }, "region_name": { "type": "string" }, "period": { "type": "string" },
                        "province_code": { "type": "string", "nullable": true, "description": "with compare=regions: the code of the province whose values are given (its name and rows are not)" },
                        "values": { "type": "array", "items": { "type": "object", "properties": {
                            "id": { "type": "string" }, "value": { "type": "number", "nullable": true },
                            "numerator": { "type": "number", "description": "a count, or yuan" }, "denominator": { "type": "number", "nullable": true },
                            "target": { "nullable": true, "allOf": [{ "$ref": "#/components/schemas/TargetShown" }] },
                            "status": { "type": "string", "nullable": true, "enum": ["met", "near", "missed", null], "description": "the value against its target; null without a target or a value" },
                            "previous": { "type": "number", "nullable": true, "description": "with compare=previous-year: the value of the same period a year before" },
                            "change": { "type": "number", "nullable": true, "description": "with compare=previous-year: value minus previous" },
                            "province": { "type": "number", "nullable": true, "description": "with compare=regions: the value of the row's province in the same period" },
                            "nation": { "type": "number", "nullable": true, "description": "with compare=regions: the value of the nation (every region the store holds) in the same period" } } } } } } },
                    "compare": { "type": "string", "nullable": true, "enum": ["previous-year", "regions", "previous-year,regions", null] } } },
                "WhatIfRequest": { "type": "object", "additionalProperties": false, "required": ["year", "policy_toml"], "properties": {
                    "year": { "type": "integer", "minimum": 1990, "maximum": 2100, "description": "the year of the claims compared (else a 422)" },
                    "policy_toml": { "type": "string", "minLength": 1, "description": "the draft settlement policy, TOML (docs/settlement.md); at most 262144 bytes (else a 422)" } } },
                "WhatIf": { "type": "object", "properties": {
                    "scope": { "type": "string" }, "year": { "type": "integer" }, "draft": { "type": "string" },
                    "in_force": { "type": "array", "items": { "type": "string" } },
                    "claims": { "type": "integer" }, "claims_without_policy": { "type": "integer" }, "households_without_threshold": { "type": "integer" },
                    "unchanged": { "type": "boolean", "description": "every difference is zero" },
                    "rows": { "type": "array", "items": { "type": "object", "properties": {
                        "county": { "type": "string", "description": "a county code, or all" }, "county_name": { "type": "string" }, "item": { "type": "string" },
                        "in_force": { "type": "string", "nullable": true }, "draft": { "type": "string", "nullable": true },
                        "difference": { "type": "string", "nullable": true, "description": "draft minus in force" } } } } } },
                "Summary": { "type": "object", "properties": {
                    "scope": { "type": "string" }, "households": { "type": "integer" }, "persons": { "type": "integer" }, "poor_persons": { "type": "integer" },
                    "claims": { "type": "integer" }, "settled_total": { "$ref": "#/components/schemas/Money" }, "out_of_pocket": { "$ref": "#/components/schemas/Money" },
                    "oop_share": { "type": "number", "nullable": true }, "open_alerts": { "type": "integer" }, "villages": { "type": "integer" }, "blank_villages": { "type": "integer", "nullable": true, "description": "villages blank now (no clinic, or no qualified doctor serving), as counted in the last five minutes; null before the first count of the scope" } } }
            }
        }
    })
}
