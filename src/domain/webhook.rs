//! Webhooks (docs/design.md §15.4) as pure rules: which targets are allowed, the retry
//! schedule, the Standard Webhooks signature, and the body of a delivery.

use std::net::IpAddr;
use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::{Quantity, events::QuotaEventKind};

/// What a secret is answered with in front of its base64 bytes.
pub const SECRET_PREFIX: &str = "whsec_";

/// The delivery states, as the API spells them.
pub const PENDING: &str = "PENDING";
pub const SUCCEEDED: &str = "SUCCEEDED";
pub const FAILED: &str = "FAILED";

/// The waits before each retry.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySchedule(Vec<Duration>);

impl RetrySchedule {
    /// Comma-separated seconds, decimals allowed ("5,300" or "0.2,0.2").
    pub fn parse(text: &str) -> Result<RetrySchedule, String> {
        let waits = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| format!("'{s}' is not a number of seconds"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RetrySchedule(waits))
    }

    /// The wait after the `attempts`-th failed attempt; none when the schedule is over
    /// (the delivery is FAILED).
    pub fn after_attempt(&self, attempts: u32) -> Option<Duration> {
        let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
        self.0.get(index).copied()
    }
}

/// Whether a webhook may be sent to `ip` without the private-address switch: only
/// globally routable unicast addresses.
pub fn refusal_of(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_private() {
                Some("a private address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a shared (CGNAT) address")
            } else if v4.is_unspecified() || a == 0 {
                Some("an unspecified address")
            } else if v4.is_multicast() || a >= 240 {
                Some("a multicast, reserved or broadcast address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique-local (private) address")
            } else {
                None
            }
        }
    }
}

/// A target URL's parts, once it is known to be http(s) with a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub url: url::Url,
    pub host: String,
    pub port: u16,
}

/// Reads a webhook URL: it must parse and be http or https with a host.
pub fn target(text: &str) -> Result<Target, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("url is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("url must be http or https, not {}", url.scheme()));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err("url has no host".into()),
    };
    let port = url.port_or_known_default().ok_or("url has no port")?;
    Ok(Target { url, host, port })
}

/// A new secret's answer from its bytes.
pub fn secret_text(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// XORs `bytes` with a keystream of HMAC-SHA256(pepper, "webhook-secret:{id}:{block}"):
/// both how a secret is stored and how it is read back, so a database dump without the
/// pepper cannot sign.
pub fn seal(pepper: &[u8], endpoint: Uuid, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (block, chunk) in bytes.chunks(32).enumerate() {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(pepper).expect("HMAC takes a key of any length");
        mac.update(format!("webhook-secret:{endpoint}:{block}").as_bytes());
        let stream = mac.finalize().into_bytes();
        out.extend(chunk.iter().zip(stream.iter()).map(|(b, k)| b ^ k));
    }
    out
}

/// The `webhook-signature` header: `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// A global id as the GraphQL API spells it (`graphql::node::encode`).
pub fn global_id(kind: &str, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

/// A notification's opaque cursor as the GraphQL API spells it.
pub fn cursor(seq: i64) -> String {
    let mut bytes = vec![b'n'];
    bytes.extend_from_slice(&seq.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What a delivery body says about its event: the fields of the GraphQL `QuotaEvent`.
pub struct EventFields<'a> {
    pub id: Uuid,
    pub seq: i64,
    pub kind: QuotaEventKind,
    pub at: DateTime<Utc>,
    pub organization_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub unit_type: &'a str,
    pub threshold: Option<f64>,
    pub previous_status: Option<&'a str>,
    pub status: Option<&'a str>,
    pub consumed: Option<i64>,
    pub remaining: Option<i64>,
}

/// The body: `{"type": "quota.<kind>", "timestamp": <the event's at>, "data": {…}}`.
pub fn body(event: &EventFields<'_>) -> serde_json::Value {
    let at = event.at.fixed_offset().to_rfc3339();
    let decimal = |q: Option<i64>| q.map(|q| Quantity::from_scaled(q).to_string());
    serde_json::json!({
        "type": format!("quota.{}", event.kind.as_str().to_lowercase()),
        "timestamp": at,
        "data": {
            "id": event.id.to_string(),
            "cursor": cursor(event.seq),
            "kind": event.kind.as_str(),
            "at": at,
            "organizationId": global_id("Organization", event.organization_id),
            "tenantId": event.tenant_id.map(|t| global_id("Tenant", t)),
            "unitType": event.unit_type,
            "threshold": event.threshold,
            "previousStatus": event.previous_status,
            "status": event.status,
            "consumed": decimal(event.consumed),
            "remaining": decimal(event.remaining),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_end() {
        let schedule = RetrySchedule::parse("0.2, 5").unwrap();
        assert_eq!(schedule.after_attempt(1), Some(Duration::from_millis(200)));
        assert_eq!(schedule.after_attempt(2), Some(Duration::from_secs(5)));
        assert_eq!(schedule.after_attempt(3), None);
        assert_eq!(schedule.after_attempt(0), None);
        assert!(RetrySchedule::parse("5,x").is_err());
        assert!(RetrySchedule::parse("-1").is_err());
    }

    #[test]
    fn only_public_addresses_pass() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(refusal_of(refused.parse().unwrap()).is_some(), "{refused}");
        }
        for allowed in ["203.0.113.10", "8.8.8.8", "100.128.0.1", "2001:4860::8888"] {
            assert_eq!(refusal_of(allowed.parse().unwrap()), None, "{allowed}");
        }
    }

    #[test]
    fn targets_are_http() {
        assert_eq!(target("https://example.com/hook").unwrap().port, 443);
        assert_eq!(target("http://[::1]:8080/").unwrap().host, "::1");
        assert!(target("ftp://example.com/").is_err());
        assert!(target("not a url").is_err());
    }

    #[test]
    fn secrets_are_sealed_reversibly_and_per_endpoint() {
        let id = Uuid::now_v7();
        let secret = [7u8; 32];
        let sealed = seal(b"pepper", id, &secret);
        assert_ne!(sealed, secret);
        assert_eq!(seal(b"pepper", id, &sealed), secret);
        assert_ne!(seal(b"pepper", Uuid::now_v7(), &secret), sealed);
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
