//! Export links (docs/design.md §15.5): a URL that downloads one export without an
//! `Authorization` header, for a plain `<a download>` in a browser. The link carries no API
//! key: its `token` is `base64url(payload) "." base64url(HMAC-SHA256(pepper, payload))`, the
//! payload naming the key whose rights it lends, when it expires, the report and the
//! canonical query string, so that nothing in the link can be changed without the server
//! noticing.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// How long a link works, in seconds.
pub const LIFETIME_SECS: i64 = 300;

/// The query parameter that holds the token.
pub const TOKEN_PARAMETER: &str = "token";

/// Put in front of every payload before it is signed: the pepper also keys the API key
/// hashes, and this keeps a signature from ever standing for anything else.
const DOMAIN: &[u8] = b"quotagraph export link v1\n";

/// The parameters each report takes (`GET /export/{report}.csv`).
pub fn parameters(report: &str) -> Option<&'static [&'static str]> {
    const USAGE: &[&str] = &[
        "organization",
        "unitType",
        "bundle",
        "from",
        "to",
        "tenant",
        "attribution",
        "granularity",
    ];
    // The folder view's tables: a folder's own distribution, services, subfolders and processes.
    const BY_FOLDER: &[&str] = &[
        "organization",
        "unitType",
        "bundle",
        "from",
        "to",
        "tenant",
        "attribution",
        "granularity",
        "folder",
    ];
    match report {
        "audit" => Some(&["organization"]),
        "activity" => Some(&["organization", "unitType", "weeks"]),
        "quota" => Some(&["organization", "unitType"]),
        "notifications" => Some(&["organization", "unitType", "tenant"]),
        "tenants" | "events" | "summary" => Some(USAGE),
        "distribution" | "services" | "folders" | "processes" => Some(BY_FOLDER),
        _ => None,
    }
}

/// What a token vouches for.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The API key whose rights the link lends.
    #[serde(rename = "k")]
    pub key_id: Uuid,
    /// Unix seconds from which the link is refused.
    #[serde(rename = "e")]
    pub expires: i64,
    #[serde(rename = "r")]
    pub report: String,
    /// The query string without the token, as [`canonical`] writes it.
    #[serde(rename = "q")]
    pub query: String,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token this server signed, or altered since.
    Invalid,
    Expired,
    /// Signed for another report or other parameters.
    OtherRequest,
}

/// The query parameters in one order, form-encoded, so that the same parameters give the
/// same string however the client ordered or encoded them.
pub fn canonical(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<_> = pairs.iter().collect();
    sorted.sort();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(sorted)
        .finish()
}

fn mac(key: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(DOMAIN);
    mac.update(payload);
    mac
}

/// The token of `claims`, signed with `key`.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let signature = mac(key, &payload).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The claims of `token` when `key` signed it, it has not expired at `now` (unix seconds)
/// and it was made for `report` with the query `query` (canonical).
pub fn verify(key: &[u8], token: &str, now: i64, report: &str, query: &str) -> Result<Claims, Refusal> {
    let (payload, signature) = token.split_once('.').ok_or(Refusal::Invalid)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| Refusal::Invalid)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| Refusal::Invalid)?;
    // Constant-time comparison, so the signature cannot be guessed byte by byte.
    mac(key, &payload)
        .verify_slice(&signature)
        .map_err(|_| Refusal::Invalid)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| Refusal::Invalid)?;
    if now >= claims.expires {
        return Err(Refusal::Expired);
    }
    if claims.report != report || claims.query != query {
        return Err(Refusal::OtherRequest);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            key_id: Uuid::nil(),
            expires: 1_000,
            report: "tenants".into(),
            query: canonical(&[
                ("unitType".into(), "units".into()),
                ("organization".into(), "T3JnOjE=".into()),
            ]),
        }
    }

    #[test]
    fn a_token_verifies_only_unaltered_in_time_and_for_its_request() {
        let token = sign(b"pepper", &claims());
        let q = claims().query;
        assert_eq!(verify(b"pepper", &token, 999, "tenants", &q), Ok(claims()));
        assert_eq!(verify(b"pepper", &token, 1_000, "tenants", &q), Err(Refusal::Expired));
        assert_eq!(verify(b"other", &token, 999, "tenants", &q), Err(Refusal::Invalid));
        assert_eq!(verify(b"pepper", &token, 999, "events", &q), Err(Refusal::OtherRequest));
        assert_eq!(
            verify(b"pepper", &token, 999, "tenants", "unitType=x"),
            Err(Refusal::OtherRequest)
        );
        let (payload, signature) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                expires: 9_999,
                ..claims()
            })
            .unwrap(),
        );
        assert_eq!(
            verify(b"pepper", &format!("{forged}.{signature}"), 999, "tenants", &q),
            Err(Refusal::Invalid)
        );
        assert_eq!(verify(b"pepper", payload, 999, "tenants", &q), Err(Refusal::Invalid));
    }

    #[test]
    fn the_canonical_query_ignores_order_and_encoding() {
        let a = canonical(&[("b".into(), "x y".into()), ("a".into(), "1".into())]);
        let b = canonical(&[("a".into(), "1".into()), ("b".into(), "x y".into())]);
        assert_eq!(a, b);
        assert_eq!(a, "a=1&b=x+y");
    }
}
