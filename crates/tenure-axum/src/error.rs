//! What can go wrong with a request's session, and the response each failure becomes.

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use tenure::ErrorCode;

/// A failed session operation in a handler.
#[derive(Debug)]
pub enum SessionError {
    /// The core refused or failed (a value it can't hold, a limit, the store, a session
    /// ended meanwhile); the code says which.
    Tenure(tenure::Error),
    /// A value could not be converted to or from a session value.
    Type {
        /// The session key involved.
        key: String,
        /// What was wrong.
        message: String,
    },
    /// The handler asked for the session but the [`SessionLayer`](crate::SessionLayer) is
    /// not installed on its route.
    MissingLayer,
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Tenure(e) => write!(f, "{e}"),
            SessionError::Type { key, message } => write!(f, "session key {key:?}: {message}"),
            SessionError::MissingLayer => f.write_str(
                "no tenure session on this request: add tenure_axum::SessionLayer to the router",
            ),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<tenure::Error> for SessionError {
    fn from(e: tenure::Error) -> Self {
        SessionError::Tenure(e)
    }
}

impl SessionError {
    /// The core's error code, for [`SessionError::Tenure`].
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            SessionError::Tenure(e) => Some(e.code()),
            _ => None,
        }
    }

    /// The status this error answers with: 400 for a value the client sent that the
    /// session refuses (its message names the key and the reason), 401 for a session that
    /// ended meanwhile, 503 when the session table is full, 500 for the rest.
    pub fn status(&self) -> StatusCode {
        match self.code() {
            Some(ErrorCode::InvalidValue | ErrorCode::LimitExceeded) => StatusCode::BAD_REQUEST,
            Some(ErrorCode::SessionGone) => StatusCode::UNAUTHORIZED,
            Some(ErrorCode::TooManySessions) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Server-side failures (store, conversion, wiring) are logged, not shown: their
        // text may describe the store.
        let body = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            eprintln!("tenure-axum: {self}");
            "Internal Server Error".to_string()
        } else {
            self.to_string()
        };
        (status, body).into_response()
    }
}
