//! Bearer tokens (header transport).

use crate::secrets::{secret_list, unsigned, with_secrets};
use wasm_bindgen::prelude::*;
#[wasm_bindgen(js_name = parseBearer)]
pub fn parse_bearer(header: &str) -> Option<String> {
    tenure::web::bearer::parse_bearer(header).map(str::to_owned)
}

#[wasm_bindgen(js_name = signToken)]
pub fn sign_token(id: &str, secret: JsValue) -> Result<String, JsValue> {
    let s = secret_list(&secret)?;
    Ok(tenure::web::bearer::sign_token(
        id,
        s.first().map_or(&[][..], Vec::as_slice),
    ))
}

#[wasm_bindgen(js_name = unsignToken)]
pub fn unsign_token(token: &str, secrets: JsValue) -> Result<JsValue, JsValue> {
    with_secrets(&secrets, |s| {
        unsigned(tenure::web::bearer::unsign_token(token, s))
    })
}
