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

fn query(name: &str, desc: &str, ty: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": ty } })
}

fn errors(mut responses: Value) -> Value {
    for code in ["400", "401", "403", "404", "409", "422"] {
        responses[code] = err();
    }
    responses
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> Value {
    let mut doc = base();
    for (section, add) in [("paths", work_paths()), ("schemas", work_schemas())] {
        let to = if section == "paths" { &mut doc["paths"] } else { &mut doc["components"]["schemas"] };
        if let (Some(to), Value::Object(add)) = (to.as_object_mut(), add) {
            to.extend(add);
        }
    }
    doc
}

/// The daily casework (crate::work): cases, visits, contracts.
fn work_paths() -> Value {
    let id = || path_param("id", "case ID");
    json!({
        "/cases": {
            "get": {
                "summary": "Cases in scope: those awaiting verification past their deadline first (overdue), then by deadline", "operationId": "listCases",
                "parameters": [query("state", "open, assigned, verified, assisting or closed", "string"), query("open", "true: only open cases (every state but closed)", "boolean"),
                               query("overdue", "true: only cases awaiting verification past their deadline", "boolean"), query("assignee", "the responsible person", "string"),
                               query("household", "household ID", "string"), query("limit", "1 to 1000, default 100", "integer")],
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
                "parameters": [query("household", "household ID", "string"), query("person", "18-character resident ID", "string"), query("limit", "1 to 1000, default 100", "integer")],
                "responses": errors(json!({ "200": list("Visit") })) },
            "post": {
                "summary": "Record a household visit or a follow-up of one patient (role: officer, administrator); a household outside the scope is a 404. Verifications are made on their case.",
                "operationId": "recordVisit", "requestBody": body("VisitRequest"),
                "responses": errors(json!({ "201": ok("Visit") })) } },
        "/households/{id}/visits": { "get": {
            "summary": "A household's visits, the latest first", "operationId": "householdVisits",
            "parameters": [path_param("id", "household ID"), query("limit", "1 to 1000, default 100", "integer")],
            "responses": errors(json!({ "200": list("Visit") })) } },
        "/contracts": {
            "get": {
                "summary": "Family-doctor contracts in scope, the latest first", "operationId": "listContracts",
                "parameters": [query("person", "18-character resident ID", "string"), query("limit", "1 to 1000, default 100", "integer")],
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
    json!({
        "Case": { "type": "object", "required": ["id", "household_id", "village_code", "state", "overdue", "due", "version"], "properties": {
            "id": { "type": "integer" }, "household_id": text, "village_code": text, "state": states,
            "overdue": { "type": "boolean", "description": "awaiting verification past its deadline" },
            "source": { "type": "string", "enum": ["alert", "visit", "officer"] }, "opened_at": time, "opened_by": text,
            "assignee": text, "due": date, "verified_on": { "type": "string", "format": "date", "nullable": true },
            "monitored": { "type": "boolean", "nullable": true }, "closed_at": { "type": "string", "format": "date-time", "nullable": true },
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
            "person_id": { "type": "string", "nullable": true, "description": "masked unless the role may see it" },
            "kind": { "type": "string", "enum": ["household", "verification", "follow_up"] }, "date": date, "visitors": text, "findings": text,
            "next_date": { "type": "string", "format": "date", "nullable": true }, "case_id": { "type": "integer", "nullable": true },
            "recorded_by": text, "recorded_at": time } },
        "Contract": { "type": "object", "required": ["id", "person_id", "practitioner_id", "signed", "ends"], "properties": {
            "id": { "type": "integer" }, "person_id": { "type": "string", "description": "masked unless the role may see it" },
            "practitioner_id": text, "village_code": text, "signed": date, "ends": date, "recorded_by": text, "recorded_at": time } },
        "OpenCaseRequest": { "type": "object", "additionalProperties": false, "required": ["household_id"], "properties": {
            "household_id": text, "note": text } },
        "AssignRequest": { "type": "object", "additionalProperties": false, "required": ["version", "assignee"], "properties": {
            "version": { "type": "integer" }, "assignee": { "type": "string", "maxLength": 64 },
            "due": { "type": "string", "format": "date", "description": "default: the region's verification deadline from today" } } },
        "VerifyRequest": { "type": "object", "additionalProperties": false, "required": ["version", "date", "visitors", "findings", "monitored"], "properties": {
            "version": { "type": "integer" }, "date": { "type": "string", "format": "date", "description": "the visit's day, not in the future" },
            "visitors": text, "findings": text, "next_date": { "type": "string", "format": "date", "description": "after date" },
            "monitored": { "type": "boolean", "description": "whether the household becomes monitored" } } },
        "CaseMeasureRequest": { "type": "object", "additionalProperties": false, "required": ["version", "kind", "amount", "fund", "date"], "properties": {
            "version": { "type": "integer" }, "kind": text, "amount": { "$ref": "#/components/schemas/Amount" }, "fund": text,
            "date": { "type": "string", "format": "date", "description": "not in the future" }, "note": text } },
        "CloseRequest": { "type": "object", "additionalProperties": false, "required": ["version", "reason"], "properties": {
            "version": { "type": "integer" }, "reason": reason, "note": { "type": "string", "description": "required for no_risk" } } },
        "VisitRequest": { "type": "object", "additionalProperties": false, "required": ["household_id", "kind", "date", "visitors"], "properties": {
            "household_id": text, "person_id": { "type": "string", "description": "18-character resident ID, a member of the household; required for a follow-up" },
            "kind": { "type": "string", "enum": ["household", "follow_up"] }, "date": { "type": "string", "format": "date", "description": "not in the future" },
            "visitors": text, "findings": text, "next_date": { "type": "string", "format": "date", "description": "after date" },
            "case_id": { "type": "integer", "description": "an open case of the household the visit serves" } } },
        "ContractRequest": { "type": "object", "additionalProperties": false, "required": ["person_id", "practitioner_id", "signed", "ends"], "properties": {
            "person_id": { "type": "string", "description": "18-character resident ID" }, "practitioner_id": text, "signed": date,
            "ends": { "type": "string", "format": "date", "description": "after signed" } } },
    })
}

/// Registry, alerts, settlement, reports and the what-if.
fn base() -> Value {
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
                "parameters": [query("q", "resident ID prefix, name part or household ID", "string"), query("limit", "1 to 1000, default 100", "integer")],
                "responses": errors(json!({ "200": list("Person") })) } },
            "/persons/{id}": { "get": {
                "summary": "A person's record with claims and alerts (audited)", "operationId": "getPerson",
                "parameters": [path_param("id", "18-character resident ID")],
                "responses": errors(json!({ "200": ok("PersonRecord") })) } },
            "/households": { "get": {
                "summary": "Search households in scope", "operationId": "searchHouseholds",
                "parameters": [query("q", "household ID part or village code prefix", "string"), query("limit", "1 to 1000, default 100", "integer")],
                "responses": errors(json!({ "200": list("Household") })) } },
            "/households/{id}": { "get": {
                "summary": "A household with its members and alerts (audited)", "operationId": "getHousehold",
                "parameters": [path_param("id", "household ID")],
                "responses": errors(json!({ "200": ok("HouseholdRecord") })) } },
            "/alerts": { "get": {
                "summary": "The alert queue in scope", "operationId": "listAlerts",
                "parameters": [query("state", "open, verifying, assisting, resolved or dismissed", "string"), query("rule", "rule name", "string"),
                               query("region", "region code prefix", "string"), query("limit", "1 to 1000, default 100", "integer")],
                "responses": errors(json!({ "200": list("Alert") })) } },
            "/alerts/{id}": { "get": {
                "summary": "One alert with its history", "operationId": "getAlert",
                "parameters": [path_param("id", "alert ID")],
                "responses": errors(json!({ "200": ok("Alert") })) } },
            "/alerts/{id}/transition": { "post": {
                "summary": "Move an alert to its next state (role: officer, administrator)", "operationId": "transitionAlert",
                "parameters": [path_param("id", "alert ID")], "requestBody": body("TransitionRequest"),
                "responses": errors(json!({ "200": ok("Alert") })) } },
            "/alerts/{id}/measures": { "post": {
                "summary": "Record an assistance measure on an alert", "operationId": "addMeasure",
                "parameters": [path_param("id", "alert ID")], "requestBody": body("MeasureRequest"),
                "responses": errors(json!({ "201": ok("Alert") })) } },
            "/settlements": { "post": {
                "summary": "Settle a claim in real time (role: clerk, officer, administrator). Idempotent by claim_id: the same claim again answers 200 with the stored result and is not counted twice; different data under a settled claim_id is a 409.",
                "operationId": "settleClaim", "requestBody": body("ClaimRequest"),
                "responses": errors(json!({ "201": ok("Settlement"), "200": ok("Settlement") })) } },
            "/claims/{id}/void": { "post": {
                "summary": "Void a settled claim; re-settles the person's other claims of the year and reports the differences", "operationId": "voidClaim",
                "parameters": [path_param("id", "claim ID")],
                "responses": errors(json!({ "200": ok("VoidResult") })) } },
            "/reports": { "get": {
                "summary": "The programme indicators of the caller's scope by region level and period. Rows outside the scope (and regions above it) never appear. CSV and XLSX need a role that may export.",
                "operationId": "report",
                "parameters": [query("year", "1990 to 2100; default the latest year with a policy", "integer"),
                               query("level", "province, city, county, township, village; comma-separated or repeated; default the scope's level and the one below", "string"),
                               query("period", "year (default), quarter or month", "string"),
                               query("format", "json (default), csv or xlsx", "string")],
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
                    "error": { "type": "string", "enum": ["bad_request", "unauthorized", "forbidden", "not_found", "conflict", "unprocessable", "too_many_requests", "internal"] },
                    "message": { "type": "string" } } },
                "Money": money,
                "Person": { "type": "object", "required": ["person_id", "household_id", "name", "status", "status_since", "village_code", "diagnoses"], "properties": {
                    "person_id": { "type": "string", "description": "masked (110105********002X) unless the role may see it" },
                    "household_id": { "type": "string" },
                    "name": { "type": "string", "description": "masked (张**) unless the role may see it" },
                    "status": { "type": "string", "enum": ["special_hardship", "low_income", "lifted", "monitored", "general"] },
                    "status_since": { "type": "string", "format": "date" },
                    "village_code": { "type": "string" },
                    "diagnoses": { "type": "array", "items": { "type": "string" } } } },
                "PersonRecord": { "allOf": [ { "$ref": "#/components/schemas/Person" }, { "type": "object", "properties": {
                    "batches": { "type": "array", "items": { "type": "string" } },
                    "claims": { "type": "array", "items": { "$ref": "#/components/schemas/Claim" } },
                    "alerts": { "type": "array", "items": { "$ref": "#/components/schemas/Alert" } } } } ] },
                "Claim": { "type": "object", "properties": {
                    "claim_id": { "type": "string" }, "discharged": { "type": "string", "format": "date" },
                    "kind": { "type": "string" }, "facility_level": { "type": "string" }, "diagnosis": { "type": "string" },
                    "total_cost": { "$ref": "#/components/schemas/Money" },
                    "payments": { "type": "array", "items": { "type": "object", "properties": { "tier": { "type": "string" }, "amount": { "$ref": "#/components/schemas/Money" } } } },
                    "out_of_pocket": { "$ref": "#/components/schemas/Money" } } },
                "Household": { "type": "object", "required": ["household_id", "village_code", "size", "income"], "properties": {
                    "household_id": { "type": "string" }, "village_code": { "type": "string" }, "size": { "type": "integer" },
                    "income": { "$ref": "#/components/schemas/Money" }, "consumption": { "$ref": "#/components/schemas/Money" }, "food": { "$ref": "#/components/schemas/Money" } } },
                "HouseholdRecord": { "allOf": [ { "$ref": "#/components/schemas/Household" }, { "type": "object", "properties": {
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
                    "kind": { "type": "string" }, "amount": { "type": "string", "description": "yuan, at most two decimals" }, "note": { "type": "string" } } },
                "Amount": { "oneOf": [ { "type": "string" }, { "type": "number" } ], "description": "yuan, at most two decimals; a string keeps it exact" },
                "ClaimRequest": { "type": "object", "additionalProperties": false,
                    "required": ["claim_id", "person_id", "facility_level", "kind", "admitted", "discharged", "total_cost", "eligible_cost"], "properties": {
                    "claim_id": { "type": "string", "maxLength": 64 }, "person_id": { "type": "string", "description": "18-character resident ID" },
                    "facility_level": { "type": "string", "enum": ["village", "township", "county", "municipal", "provincial", "out_of_province"] },
                    "kind": { "type": "string", "enum": ["inpatient", "outpatient", "chronic_outpatient"] },
                    "admitted": { "type": "string", "format": "date" }, "discharged": { "type": "string", "format": "date" },
                    "total_cost": { "$ref": "#/components/schemas/Amount" }, "eligible_cost": { "$ref": "#/components/schemas/Amount" },
                    "diagnosis": { "type": "string" }, "facility_id": { "type": "string" } } },
                "Payment": { "type": "object", "properties": { "tier": { "type": "string" }, "amount": { "$ref": "#/components/schemas/Money" } } },
                "Settlement": { "type": "object", "properties": {
                    "claim_id": { "type": "string" }, "person_id": { "type": "string" }, "year": { "type": "integer" }, "status": { "type": "string" },
                    "policy": { "type": "string" }, "total_cost": { "$ref": "#/components/schemas/Money" }, "eligible_cost": { "$ref": "#/components/schemas/Money" },
                    "payments": { "type": "array", "items": { "$ref": "#/components/schemas/Payment" } },
                    "out_of_pocket": { "$ref": "#/components/schemas/Money" }, "replayed": { "type": "boolean" } } },
                "VoidResult": { "type": "object", "properties": {
                    "voided": { "type": "string" }, "year": { "type": "integer" },
                    "settlements": { "type": "array", "items": { "type": "object", "properties": { "claim_id": { "type": "string" },
                        "payments": { "type": "array", "items": { "$ref": "#/components/schemas/Payment" } }, "out_of_pocket": { "$ref": "#/components/schemas/Money" } } } },
                    "differences": { "type": "array", "items": { "type": "object", "properties": { "claim_id": { "type": "string" },
                        "payments": { "type": "array", "items": { "$ref": "#/components/schemas/Payment" } }, "out_of_pocket": { "type": "string", "description": "new minus old" } } } } } },
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
                        "values": { "type": "array", "items": { "type": "object", "properties": {
                            "id": { "type": "string" }, "value": { "type": "number", "nullable": true },
                            "numerator": { "type": "number", "description": "a count, or yuan" }, "denominator": { "type": "number", "nullable": true } } } } } } } } },
                "WhatIfRequest": { "type": "object", "additionalProperties": false, "required": ["year", "policy_toml"], "properties": {
                    "year": { "type": "integer", "description": "the year of the claims compared" },
                    "policy_toml": { "type": "string", "description": "the draft settlement policy, TOML (docs/settlement.md)" } } },
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
                    "oop_share": { "type": "number", "nullable": true }, "open_alerts": { "type": "integer" }, "villages": { "type": "integer" }, "blank_villages": { "type": "integer" } } }
            }
        }
    })
}
