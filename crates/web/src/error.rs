//! The one error type of the web layer and its mapping to HTTP status codes.
//!
//! API handlers return [`WebError`], answered as JSON `{"error": KIND, "message":
//! TEXT}`; page handlers return [`PageError`], the same error drawn as a small
//! HTML page. The status of each kind is decided in [`WebError::status`] and
//! nowhere else. Extractor rejections (malformed JSON, unknown fields, wrong
//! types) become `BadRequest` with serde's own words, never a 500; a body over
//! [`crate::BODY_LIMIT`] is `PayloadTooLarge` (413). What the router answers by
//! itself under `/api/` (a path that does not decode, a method the route lacks)
//! is put in the same JSON shape by [`json_error`], so that no API error is text.

use app::AppError;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("please log in")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            WebError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            WebError::BadRequest(_) => "bad_request",
            WebError::Unauthorized => "unauthorized",
            WebError::Forbidden(_) => "forbidden",
            WebError::NotFound(_) => "not_found",
            WebError::Conflict(_) => "conflict",
            WebError::Unprocessable(_) => "unprocessable",
            WebError::TooManyRequests(_) => "too_many_requests",
            WebError::MethodNotAllowed(_) => "method_not_allowed",
            WebError::PayloadTooLarge(_) => "payload_too_large",
            WebError::Internal(_) => "internal",
        }
    }

    /// A person, household or alert that does not exist or lies outside the scope:
    /// the two are answered alike.
    pub fn not_found(what: &str) -> WebError {
        WebError::NotFound(format!("{what} not found"))
    }

    pub fn forbidden(p: crate::access::Permission) -> WebError {
        WebError::Forbidden(format!("your role may not {}", p.as_str()))
    }

    /// A body over the limit.
    pub fn too_large() -> WebError {
        WebError::PayloadTooLarge(format!("the request body is larger than {} bytes", crate::BODY_LIMIT))
    }
}

/// Every error code an API error may carry (the `Error` schema's list).
pub const KINDS: [&str; 10] = [
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "unprocessable",
    "too_many_requests",
    "method_not_allowed",
    "payload_too_large",
    "internal",
];

/// An error answer in the API's JSON shape for a status the router chose itself,
/// keeping the status: its code is the kind of that status (`bad_request` for a
/// client error without a kind of its own, `internal` for a server error).
pub fn json_error(status: StatusCode, message: String) -> Response {
    let kind = match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    (status, Json(serde_json::json!({ "error": kind, "message": message }))).into_response()
}

/// A rejection that says the body is over the limit (axum answers those 413).
fn too_large(status: StatusCode) -> bool {
    status == StatusCode::PAYLOAD_TOO_LARGE
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> WebError {
        match e {
            AppError::Conflict(m) => WebError::Conflict(m),
            AppError::NotFound(m) => WebError::NotFound(m),
            AppError::Invalid(m) => WebError::Unprocessable(m),
            AppError::Forbidden(m) => WebError::Forbidden(m),
            AppError::Store(m) => WebError::Internal(m),
        }
    }
}

impl From<JsonRejection> for WebError {
    fn from(r: JsonRejection) -> WebError {
        match r {
            JsonRejection::JsonDataError(e) => {
                WebError::Unprocessable(format!("invalid request body: {}", e.body_text()))
            }
            JsonRejection::JsonSyntaxError(e) => WebError::BadRequest(format!("malformed JSON: {}", e.body_text())),
            JsonRejection::MissingJsonContentType(_) => {
                WebError::BadRequest("the request body must be JSON with Content-Type: application/json".into())
            }
            other if too_large(other.status()) => WebError::too_large(),
            other => WebError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for WebError {
    fn from(r: QueryRejection) -> WebError {
        WebError::BadRequest(format!("invalid query: {}", r.body_text()))
    }
}

impl From<FormRejection> for WebError {
    fn from(r: FormRejection) -> WebError {
        if too_large(r.status()) {
            return WebError::too_large();
        }
        WebError::BadRequest(format!("invalid form: {}", r.body_text()))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, Json(serde_json::json!({ "error": self.kind(), "message": self.to_string() }))).into_response()
    }
}

/// A [`WebError`] answered as an HTML page (pages, not the API).
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status == StatusCode::UNAUTHORIZED {
            return axum::response::Redirect::to("/login").into_response();
        }
        if status.is_server_error() {
            tracing::error!(error = %self.0, "page failed");
        }
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{code}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body><main class=\"error\"><h1>{code}</h1><p>{msg}</p><p><a href=\"/\">SafetyNet</a></p></main></body></html>",
            code = status.as_u16(),
            msg = crate::html::esc(&self.0.to_string())
        );
        (status, axum::response::Html(body)).into_response()
    }
}
