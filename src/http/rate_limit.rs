//! A request rate per API key (docs/design.md §8): a token bucket per key, in this process.
//! A request past the rate is refused with RATE_LIMITED and `Retry-After`, before any
//! GraphQL runs. Rates are measured on the real clock, whatever "now" the rules read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Tokens and when they were last counted.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every key seen.
#[derive(Debug)]
pub struct RateLimiter {
    /// Tokens added per second.
    rate: f64,
    /// Most tokens a bucket holds: the burst a key may send at once.
    burst: f64,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimiter {
            rate: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for a key; when none is left, how long until one is.
    pub fn take(&self, key: Uuid, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// The refusal of a request past its key's rate: 429, RATE_LIMITED and `Retry-After`.
pub fn refusal(wait: Duration) -> axum::response::Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = super::graphql::error_response(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        crate::error::AppError::RateLimited(format!("too many requests with this API key: retry in {seconds} s")),
    );
    response
        .headers_mut()
        .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let limiter = RateLimiter::new(2, 3);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(a, start), Ok(()));
        }
        let wait = limiter.take(a, start).expect_err("the burst is spent");
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        // Another key has its own bucket.
        assert_eq!(limiter.take(b, start), Ok(()));
        // Half a second later one token is back, and only one.
        let later = start + Duration::from_millis(500);
        assert_eq!(limiter.take(a, later), Ok(()));
        assert!(limiter.take(a, later).is_err());
        // A long pause refills up to the burst, not beyond.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.take(a, much_later), Ok(()));
        }
        assert!(limiter.take(a, much_later).is_err());
    }
}
