//! Configuration from flags and environment (docs/design.md §13). Plain values and their
//! defaults only: the layers that apply a setting read it from here.

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::clock::Clock;

/// quotagraph: usage metering and quotas behind a GraphQL API.
#[derive(Parser, Debug)]
#[command(name = "quotagraph", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

/// What to do; `serve` when none is given.
#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Apply migrations and serve GraphQL (the default).
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) and exit.
    PrintSchema,
}

/// Log line format.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting, as a flag or an environment variable.
#[derive(clap::Args, Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "QUOTAGRAPH_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,
    /// Database URL: sqlite://FILE or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://quotagraph.db", global = true)]
    pub database_url: String,
    /// On an empty store, create a demo organization with three months of usage.
    #[arg(long, global = true)]
    pub demo: bool,
    /// The first SYSTEM key's secret, used on an empty store instead of a generated one.
    #[arg(long, env = "QUOTAGRAPH_BOOTSTRAP_KEY", hide_env_values = true, global = true)]
    pub bootstrap_key: Option<String>,
    /// The server-side secret that API key hashes are keyed with; the same on every
    /// replica. Changing it makes every existing key invalid.
    #[arg(long, env = "QUOTAGRAPH_KEY_PEPPER", hide_env_values = true, global = true)]
    pub key_pepper: Option<String>,
    /// Pin the server's "now" to an RFC 3339 instant (tests, demos).
    #[arg(long, env = "QUOTAGRAPH_CLOCK", value_parser = parse_instant, global = true)]
    pub clock: Option<DateTime<Utc>>,
    /// Log line format.
    #[arg(
        long,
        env = "QUOTAGRAPH_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// Export traces to this OpenTelemetry collector over OTLP/HTTP, e.g.
    /// `http://127.0.0.1:4318`; off when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
    /// How often, in milliseconds, the period watcher looks for a new day (a bundle that
    /// rolled over, a license nearing its end).
    #[arg(long, env = "QUOTAGRAPH_WATCH_INTERVAL_MS", default_value_t = 1000, global = true)]
    pub watch_interval_ms: u64,
    /// Browser origins (`scheme://host[:port]`, comma-separated) allowed to call the API
    /// from another origin (CORS); none when empty.
    #[arg(long, env = "QUOTAGRAPH_CORS_ORIGINS", default_value = "", global = true)]
    pub cors_origins: String,
    /// How many days raw usage events are kept (unset: for ever). Figures come from the
    /// rollups and do not change when raw events go; `events.csv`, voiding and duplicate
    /// detection reach as far back as the events kept.
    #[arg(
        long,
        env = "QUOTAGRAPH_EVENT_RETENTION_DAYS",
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub event_retention_days: Option<u32>,
    #[command(flatten)]
    pub limits: LimitSettings,
    #[command(flatten)]
    pub pool: PoolSettings,
    #[command(flatten)]
    pub notifications: NotificationSettings,
}

/// Stored notifications and webhooks (docs/design.md §15.4).
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    /// How many days stored notifications are kept (history and resume reach that far back).
    #[arg(
        long,
        env = "QUOTAGRAPH_NOTIFICATION_RETENTION_DAYS",
        default_value_t = NotificationSettings::default().notification_retention_days,
        global = true
    )]
    pub notification_retention_days: u32,
    /// Seconds to wait before each retry of a failed webhook delivery, comma-separated
    /// (decimals allowed); after the last one the delivery is FAILED.
    #[arg(
        long,
        env = "QUOTAGRAPH_WEBHOOK_RETRY_SCHEDULE",
        default_value = DEFAULT_RETRY_SCHEDULE,
        global = true
    )]
    pub webhook_retry_schedule: String,
    /// Lets webhook endpoints point at loopback and private addresses (a receiver on the
    /// same host or network); refused otherwise, so that a key cannot probe the network.
    #[arg(
        long,
        env = "QUOTAGRAPH_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false,
        global = true
    )]
    pub webhook_allow_private: bool,
}

/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5,300,1800,7200,18000,36000,36000";

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            notification_retention_days: 90,
            webhook_retry_schedule: DEFAULT_RETRY_SCHEDULE.to_owned(),
            webhook_allow_private: false,
        }
    }
}

/// The database connections (docs/operator.md). A request that waits longer than its
/// acquire timeout for a connection is answered HTTP 503, `UNAVAILABLE`, with `Retry-After`.
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once (on SQLite, the readers'; writes have one more).
    #[arg(long, env = "QUOTAGRAPH_DB_MAX_CONNECTIONS", default_value_t = PoolSettings::default().db_max_connections, global = true)]
    pub db_max_connections: u32,
    /// How long, in milliseconds, a request waits for a free connection.
    #[arg(long, env = "QUOTAGRAPH_DB_ACQUIRE_TIMEOUT_MS", default_value_t = PoolSettings::default().db_acquire_timeout_ms, global = true)]
    pub db_acquire_timeout_ms: u64,
    /// SQLite: how long, in milliseconds, a write waits for the one connection writes take
    /// turns on.
    #[arg(
        long,
        env = "QUOTAGRAPH_DB_WRITER_ACQUIRE_TIMEOUT_MS",
        default_value_t = PoolSettings::default().db_writer_acquire_timeout_ms,
        global = true
    )]
    pub db_writer_acquire_timeout_ms: u64,
}

/// What one request may ask for (docs/design.md §8). The defaults are [`Default`]'s.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// Deepest GraphQL selection accepted.
    #[arg(long, env = "QUOTAGRAPH_MAX_DEPTH", default_value_t = LimitSettings::default().max_depth, global = true)]
    pub max_depth: usize,
    /// Highest GraphQL complexity accepted (each field 1, lists by their page size).
    #[arg(long, env = "QUOTAGRAPH_MAX_COMPLEXITY", default_value_t = LimitSettings::default().max_complexity, global = true)]
    pub max_complexity: usize,
    /// Most aliases in one GraphQL document.
    #[arg(long, env = "QUOTAGRAPH_MAX_ALIASES", default_value_t = LimitSettings::default().max_aliases, global = true)]
    pub max_aliases: usize,
    /// Requests per second each API key may send, on average.
    #[arg(long, env = "QUOTAGRAPH_RATE_PER_SECOND", default_value_t = LimitSettings::default().rate_per_second, global = true)]
    pub rate_per_second: u32,
    /// Requests each API key may send at once before the rate applies.
    #[arg(long, env = "QUOTAGRAPH_RATE_BURST", default_value_t = LimitSettings::default().rate_burst, global = true)]
    pub rate_burst: u32,
    /// WebSocket connections each API key may hold open at once.
    #[arg(
        long,
        env = "QUOTAGRAPH_MAX_CONNECTIONS_PER_KEY",
        default_value_t = LimitSettings::default().max_connections_per_key,
        global = true
    )]
    pub max_connections_per_key: usize,
    /// Live subscriptions each WebSocket connection may hold.
    #[arg(long, env = "QUOTAGRAPH_MAX_SUBSCRIPTIONS", default_value_t = LimitSettings::default().max_subscriptions, global = true)]
    pub max_subscriptions: usize,
    /// Switch introspection (`__schema`, `__type`) off, e.g. in production.
    #[arg(long, env = "QUOTAGRAPH_DISABLE_INTROSPECTION", global = true)]
    pub disable_introspection: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            // GraphiQL's introspection query needs 13 levels.
            max_depth: 16,
            // The organization tree of docs/dashboard.md (three nested pages of 100, the
            // benchmark's W4) costs about 4 million; a fourth nested page of 100 costs 100
            // times that.
            max_complexity: 10_000_000,
            max_aliases: 100,
            rate_per_second: 50,
            rate_burst: 200,
            max_connections_per_key: 16,
            max_subscriptions: 32,
            disable_introspection: false,
        }
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            db_max_connections: 16,
            db_acquire_timeout_ms: 10_000,
            db_writer_acquire_timeout_ms: 10_000,
        }
    }
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.to_utc())
        .map_err(|e| format!("'{text}' is not an RFC 3339 instant: {e}"))
}

impl Settings {
    /// The clock these settings ask for.
    pub fn clock(&self) -> Clock {
        self.clock.map_or(Clock::System, Clock::pinned)
    }

    /// The CORS origins, each checked to be an exact origin: a browser sends
    /// `Origin: https://app.example.com` with no path or trailing slash, and an entry that
    /// could never equal it would silently allow nothing.
    pub fn cors_origins(&self) -> Result<Vec<axum::http::HeaderValue>, String> {
        self.cors_origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                let exact = url::Url::parse(origin)
                    .ok()
                    .filter(|url| matches!(url.scheme(), "http" | "https"))
                    .is_some_and(|url| url.origin().ascii_serialization() == origin);
                let refused = || {
                    format!(
                        "QUOTAGRAPH_CORS_ORIGINS: '{origin}' is not an origin (scheme://host[:port], no path or trailing slash)"
                    )
                };
                if !exact {
                    return Err(refused());
                }
                axum::http::HeaderValue::from_str(origin).map_err(|_| refused())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    fn origins(value: &str) -> Result<Vec<String>, String> {
        let cli = Cli::parse_from(["quotagraph", "--cors-origins", value]);
        cli.settings
            .cors_origins()
            .map(|list| list.iter().map(|v| v.to_str().unwrap_or_default().to_owned()).collect())
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        assert_eq!(origins(""), Ok(vec![]));
        assert_eq!(
            origins("https://app.example.com, http://localhost:5173"),
            Ok(vec!["https://app.example.com".into(), "http://localhost:5173".into()])
        );
        for wrong in [
            "https://app.example.com/",
            "app.example.com",
            "ftp://x.test",
            "https://x.test/path",
        ] {
            let refusal = origins(wrong).expect_err(wrong);
            assert!(refusal.contains(wrong), "{refusal}");
        }
    }
}
