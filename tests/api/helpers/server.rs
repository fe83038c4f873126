//! A real server on a free port with a database of its own, and a client for it.

use chrono::{DateTime, Utc};
use quotagraph::config::{LimitSettings, LogFormat, NotificationSettings, PoolSettings, Settings};
use quotagraph::startup::App;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{DEFAULT_NOW, KEY_PEPPER, SYSTEM_KEY, TestDatabase};

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database_url: String,
    /// SQL statements the server has run so far.
    pub statements: quotagraph::store::StatementCounter,
    /// The server's pinned clock; tests move it.
    pub clock: quotagraph::clock::Clock,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// The server's own database; a replica's belongs to the server it copies.
    database: Option<TestDatabase>,
}

/// The default limits, with a request rate no test setup reaches (one test checks the rate).
pub fn generous() -> LimitSettings {
    LimitSettings {
        rate_per_second: 1_000_000,
        rate_burst: 1_000_000,
        ..LimitSettings::default()
    }
}

/// A test server's pool: a few connections, so that a test starting several servers
/// (the role matrix starts seven) stays well within PostgreSQL's 100 connections while
/// other tests run beside it.
pub fn small_pool() -> PoolSettings {
    PoolSettings {
        db_max_connections: 4,
        ..PoolSettings::default()
    }
}

/// What a test server may be started with besides its clock.
struct Knobs {
    limits: LimitSettings,
    pool: PoolSettings,
    demo: bool,
    notifications: NotificationSettings,
    cors_origins: String,
    event_retention_days: Option<u32>,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            limits: generous(),
            pool: small_pool(),
            demo: false,
            notifications: NotificationSettings::default(),
            cors_origins: String::new(),
            event_retention_days: None,
        }
    }
}

impl TestApp {
    /// A server whose clock is pinned to [`DEFAULT_NOW`].
    pub async fn spawn() -> TestApp {
        Self::spawn_at(DEFAULT_NOW).await
    }

    /// A server whose clock is pinned to `now` (RFC 3339).
    pub async fn spawn_at(now: &str) -> TestApp {
        Self::spawn_with(now, 1000).await
    }

    /// A server whose clock is pinned to `now` and whose period watcher looks every
    /// `watch_interval_ms` milliseconds.
    pub async fn spawn_with(now: &str, watch_interval_ms: u64) -> TestApp {
        Self::serve(now, watch_interval_ms, Knobs::default()).await
    }

    /// A server with other request limits.
    pub async fn spawn_with_limits(limits: LimitSettings) -> TestApp {
        Self::serve(
            DEFAULT_NOW,
            1000,
            Knobs {
                limits,
                ..Knobs::default()
            },
        )
        .await
    }

    /// A server with other database connection settings.
    pub async fn spawn_with_pool(pool: PoolSettings) -> TestApp {
        Self::serve(
            DEFAULT_NOW,
            1000,
            Knobs {
                pool,
                ..Knobs::default()
            },
        )
        .await
    }

    /// A server with other notification and webhook settings.
    pub async fn spawn_with_notifications(notifications: NotificationSettings) -> TestApp {
        Self::serve(
            DEFAULT_NOW,
            1000,
            Knobs {
                notifications,
                ..Knobs::default()
            },
        )
        .await
    }

    /// A replica (as [`TestApp::replica`]) with other notification and webhook settings.
    pub async fn replica_with_notifications(&self, notifications: NotificationSettings) -> TestApp {
        let knobs = Knobs {
            notifications,
            ..Knobs::default()
        };
        Self::start(DEFAULT_NOW, 1000, self.database_url.clone(), None, knobs).await
    }

    /// A server that keeps raw usage events `days` days, its watcher looking every 50 ms.
    pub async fn spawn_with_event_retention(days: u32) -> TestApp {
        Self::serve(
            DEFAULT_NOW,
            50,
            Knobs {
                event_retention_days: Some(days),
                ..Knobs::default()
            },
        )
        .await
    }

    /// A server that lets the browser origins `origins` call it (CORS).
    pub async fn spawn_with_cors(origins: &[&str]) -> TestApp {
        Self::serve(
            DEFAULT_NOW,
            1000,
            Knobs {
                cors_origins: origins.join(","),
                ..Knobs::default()
            },
        )
        .await
    }

    /// A server started with `--demo`: the demo organization made on its empty store.
    pub async fn spawn_demo() -> TestApp {
        Self::serve(
            DEFAULT_NOW,
            1000,
            Knobs {
                demo: true,
                ..Knobs::default()
            },
        )
        .await
    }

    /// A second server (a replica) on this one's database, with its own connections and
    /// event bus. Its `finish` leaves the database to the first server.
    pub async fn replica(&self, now: &str) -> TestApp {
        Self::start(now, 1000, self.database_url.clone(), None, Knobs::default()).await
    }

    /// A replica (as [`TestApp::replica`]) whose watcher does not look on its own: what it
    /// answers changes only through what it hears and what it reads.
    pub async fn quiet_replica(&self) -> TestApp {
        Self::start(
            DEFAULT_NOW,
            3_600_000,
            self.database_url.clone(),
            None,
            Knobs::default(),
        )
        .await
    }

    async fn serve(now: &str, watch_interval_ms: u64, knobs: Knobs) -> TestApp {
        let database = TestDatabase::new().await;
        Self::start(now, watch_interval_ms, database.url.clone(), Some(database), knobs).await
    }

    async fn start(
        now: &str,
        watch_interval_ms: u64,
        database_url: String,
        database: Option<TestDatabase>,
        Knobs {
            limits,
            pool,
            demo,
            notifications,
            cors_origins,
            event_retention_days,
        }: Knobs,
    ) -> TestApp {
        let clock: DateTime<Utc> = DateTime::parse_from_rfc3339(now).expect("test clock").to_utc();
        let settings = Settings {
            bind: "127.0.0.1:0".into(),
            database_url: database_url.clone(),
            demo,
            bootstrap_key: Some(SYSTEM_KEY.into()),
            key_pepper: Some(KEY_PEPPER.into()),
            clock: Some(clock),
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            watch_interval_ms,
            cors_origins,
            event_retention_days,
            limits,
            pool,
            notifications,
        };
        let app = App::build(&settings).await.expect("the app builds");
        let address = format!("127.0.0.1:{}", app.port());
        let statements = app.statements();
        statements.keep_texts();
        let clock = app.clock();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until_stopped(async move {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs");
        });
        TestApp {
            address,
            client: reqwest::Client::new(),
            database_url,
            statements,
            clock,
            stop: Some(stop),
            server: Some(server),
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// POSTs a GraphQL request with a Bearer key and returns the JSON answer.
    pub async fn gql(&self, key: &str, query: &str, variables: Value) -> Value {
        self.client
            .post(self.url("/graphql"))
            .bearer_auth(key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("JSON answer")
    }

    /// Runs as SYSTEM and expects no error; returns `data`.
    pub async fn ok(&self, key: &str, query: &str, variables: Value) -> Value {
        let answer = self.gql(key, query, variables).await;
        assert!(answer.get("errors").is_none(), "unexpected errors: {answer:#}");
        answer["data"].clone()
    }

    /// Expects an error and returns its `extensions.code` and message.
    pub async fn err(&self, key: &str, query: &str, variables: Value) -> (String, String) {
        let answer = self.gql(key, query, variables).await;
        let error = &answer["errors"][0];
        assert!(error.is_object(), "expected an error: {answer:#}");
        (
            error["extensions"]["code"].as_str().unwrap_or("<none>").to_owned(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Whether the server runs on PostgreSQL (replicas need it: on SQLite the bus is in-process).
    pub fn on_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// Stops the server and removes its database.
    pub async fn finish(mut self) {
        self.check_statements();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(database) = self.database.take() {
            database.remove().await;
        }
    }
}

impl TestApp {
    /// Fails the test on a statement this server ran on an organization's data without
    /// naming the organization (see [`super::statements`]).
    fn check_statements(&self) {
        let unnamed: Vec<String> = self
            .statements
            .texts()
            .into_iter()
            .filter_map(|sql| {
                let tables = super::statements::unnamed_organization(&sql);
                (!tables.is_empty()).then(|| format!("{tables:?}: {sql}"))
            })
            .collect();
        assert!(
            unnamed.is_empty(),
            "statements on an organization's data that do not name it:\n{}",
            unnamed.join("\n")
        );
    }
}

impl Drop for TestApp {
    /// A test that panicked or returned before `finish`: the server is stopped before its
    /// database is removed (the `database` field drops after this).
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if !std::thread::panicking() {
            self.check_statements();
        }
    }
}
