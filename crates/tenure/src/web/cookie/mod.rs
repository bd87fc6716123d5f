//! Cookies, once for every language: express-session-compatible signed values, the
//! `Set-Cookie` builder, and a bounded, tolerant `Cookie:` header parser.
//!
//! ```
//! use tenure::web::cookie;
//! let signed = cookie::sign("apple", b"keyboard cat");
//! assert_eq!(signed, "s:apple.D8Y+pkTAmeR0PobOhY4G97PRW+j7bUnP/5m6/On1MCU");
//! let found = cookie::unsign(&signed, &[b"new secret", b"keyboard cat"]).unwrap();
//! assert_eq!((found.id.as_str(), found.secret_index), ("apple", 1));
//! ```

mod date;
pub(crate) mod header;
mod set_cookie;
pub(crate) mod sign;
mod uri;

pub use date::imf_fixdate;
pub use header::{
    find_session_id, parse_cookie_header, MAX_COOKIE_HEADERS, MAX_COOKIE_HEADER_BYTES,
    MAX_COOKIE_PAIRS,
};
pub use set_cookie::{CookieOptions, Priority, SameSite, MAX_SET_COOKIE_BYTES};
pub use sign::{sign, unsign, unsign_id, Secrets, Unsigned, MIN_SECRET_BYTES};
pub use uri::{decode_uri_component, encode_uri_component};
