//! Starts the real server on a free port with a database of its own, and talks to it
//! over HTTP. With `TEST_DATABASE_URL` set (a PostgreSQL URL), each test gets a fresh
//! PostgreSQL database; otherwise a fresh SQLite file.

use chrono::{DateTime, Utc};
use quotagraph::config::{LimitSettings, LogFormat, PoolSettings, Settings};
use quotagraph::startup::App;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The SYSTEM key every test server starts with.
pub const SYSTEM_KEY: &str = "qg_system_key_for_tests";

/// The pepper of API key hashes on every test server (a server process too).
pub const KEY_PEPPER: &str = "a pepper for tests";

/// The instant the test servers' clock is pinned to unless a test picks another.
pub const DEFAULT_NOW: &str = "2026-11-23T10:00:00Z";

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
    drop_database: Option<(String, String)>,
}

/// A fresh, empty database URL: a new PostgreSQL database when `TEST_DATABASE_URL`
/// is set, else a new SQLite file. The second value names the PostgreSQL database
/// to drop afterwards (admin URL, name).
pub async fn fresh_database() -> (String, Option<(String, String)>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("qg_t_{}", uuid::Uuid::now_v7().simple());
            let db = Database::connect(&admin)
                .await
                .expect("TEST_DATABASE_URL must reach PostgreSQL");
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            db.close().await.ok();
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(base, _)| base)
                .to_owned();
            (format!("{base}/{name}"), Some((admin, name)))
        }
        _ => {
            let path = std::env::temp_dir().join(format!("quotagraph-test-{}.db", uuid::Uuid::now_v7().simple()));
            (format!("sqlite://{}", path.display()), None)
        }
    }
}

/// The default limits, with a request rate no test setup reaches (one test checks the rate).
pub fn generous() -> LimitSettings {
    LimitSettings {
        rate_per_second: 1_000_000,
        rate_burst: 1_000_000,
        ..LimitSettings::default()
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
        let (database_url, drop_database) = fresh_database().await;
        Self::serve(
            now,
            watch_interval_ms,
            database_url,
            drop_database,
            generous(),
            PoolSettings::default(),
        )
        .await
    }

    /// A server with other request limits.
    pub async fn spawn_with_limits(limits: LimitSettings) -> TestApp {
        let (database_url, drop_database) = fresh_database().await;
        Self::serve(
            DEFAULT_NOW,
            1000,
            database_url,
            drop_database,
            limits,
            PoolSettings::default(),
        )
        .await
    }

    /// A server with other database connection settings.
    pub async fn spawn_with_pool(pool: PoolSettings) -> TestApp {
        let (database_url, drop_database) = fresh_database().await;
        Self::serve(DEFAULT_NOW, 1000, database_url, drop_database, generous(), pool).await
    }

    /// A second server (a replica) on this one's database, with its own connections and
    /// event bus. Its `finish` leaves the database to the first server.
    pub async fn replica(&self, now: &str) -> TestApp {
        Self::serve(
            now,
            1000,
            self.database_url.clone(),
            None,
            generous(),
            PoolSettings::default(),
        )
        .await
    }

    async fn serve(
        now: &str,
        watch_interval_ms: u64,
        database_url: String,
        drop_database: Option<(String, String)>,
        limits: LimitSettings,
        pool: PoolSettings,
    ) -> TestApp {
        let clock: DateTime<Utc> = DateTime::parse_from_rfc3339(now).expect("test clock").to_utc();
        let settings = Settings {
            bind: "127.0.0.1:0".into(),
            database_url: database_url.clone(),
            demo: false,
            bootstrap_key: Some(SYSTEM_KEY.into()),
            key_pepper: Some(KEY_PEPPER.into()),
            clock: Some(clock),
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            watch_interval_ms,
            limits,
            pool,
        };
        let app = App::build(&settings).await.expect("the app builds");
        let address = format!("127.0.0.1:{}", app.port());
        let statements = app.statements();
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
            drop_database,
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

    /// Stops the server and drops its PostgreSQL database.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        drop_database(self.drop_database.take()).await;
    }
}

/// Drops a PostgreSQL database made by [`fresh_database`] (nothing to do for SQLite).
pub async fn drop_database(made: Option<(String, String)>) {
    if let Some((admin, name)) = made
        && let Ok(db) = Database::connect(&admin).await
    {
        let _ = db
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
}

/// An organization with one monthly license, ready for tests.
pub struct Fixture {
    pub org: String,
}

/// Creates the unit type `units`, an organization (`slug`) and a monthly license of
/// `capacity` starting 2026-01-01, as SYSTEM.
pub async fn organization_with_license(app: &TestApp, slug: &str, capacity: &str) -> Fixture {
    let _ = app
        .gql(
            SYSTEM_KEY,
            "mutation { createUnitType(input: {code: \"units\", name: \"Units\"}) { unitType { code } } }",
            json!({}),
        )
        .await;
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($slug: String!) { createOrganization(input: {name: \"Org\", slug: $slug, timeZone: \"UTC\"}) { organization { id } } }",
            json!({ "slug": slug }),
        )
        .await;
    let org = data["createOrganization"]["organization"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.ok(
        SYSTEM_KEY,
        "mutation($org: ID!, $capacity: Decimal!) { createLicense(input: {organizationId: $org, unitType: \"units\", planName: \"Plan\", capacity: $capacity, period: MONTH, startsOn: \"2026-01-01\"}) { license { id } } }",
        json!({ "org": org, "capacity": capacity }),
    )
    .await;
    Fixture { org }
}

/// Creates a tenant and returns its id.
pub async fn tenant(app: &TestApp, org: &str, name: &str) -> String {
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($org: ID!, $name: String!) { createTenant(input: {organizationId: $org, name: $name}) { tenant { id } } }",
            json!({ "org": org, "name": name }),
        )
        .await;
    data["createTenant"]["tenant"]["id"].as_str().expect("id").to_owned()
}

/// Creates an API key and returns its secret.
pub async fn key(app: &TestApp, role: &str, org: Option<&str>, tenant: Option<&str>) -> String {
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($org: ID, $tenant: ID, $role: Role!) { createApiKey(input: {organizationId: $org, tenantId: $tenant, role: $role, name: \"test\"}) { secret } }",
            json!({ "org": org, "tenant": tenant, "role": role }),
        )
        .await;
    data["createApiKey"]["secret"].as_str().expect("secret").to_owned()
}

/// The real binary in a process of its own, for what only a process shows: its logs, its
/// signals, its exporters. Killed if a test fails before ending it.
pub struct ServerProcess {
    child: Option<std::process::Child>,
    pub address: String,
    drop_database: Option<(String, String)>,
}

impl ServerProcess {
    /// Starts `quotagraph serve` on a free port over a fresh database, with the test key,
    /// pepper and clock, plus `env`; returns once it answers.
    pub async fn start(env: &[(&str, &str)]) -> ServerProcess {
        let (database_url, drop_database) = fresh_database().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_quotagraph"));
        command
            .env("QUOTAGRAPH_BIND", &address)
            .env("DATABASE_URL", &database_url)
            .env("QUOTAGRAPH_BOOTSTRAP_KEY", SYSTEM_KEY)
            .env("QUOTAGRAPH_KEY_PEPPER", KEY_PEPPER)
            .env("QUOTAGRAPH_CLOCK", DEFAULT_NOW)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let server = ServerProcess {
            child: Some(command.spawn().expect("the binary starts")),
            address,
            drop_database,
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let live = client
                .get(format!("http://{}/livez", server.address))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if live {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the server did not start");
    }

    /// Sends SIGTERM and waits for the process to end; returns whether it exited with
    /// success, and what it wrote on stderr.
    pub async fn terminate(mut self) -> (bool, String) {
        let child = self.child.take().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM was not sent");
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("the waiter ends")
            .expect("the process ends");
        if let Some((admin, name)) = self.drop_database.take()
            && let Ok(db) = Database::connect(&admin).await
        {
            let _ = db
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
