//! Building and running the application: `App::build(settings)` → `port()` →
//! `run_until_stopped(shutdown)`, so tests start the real server on port 0.

use std::future::Future;

use tokio::net::TcpListener;

use crate::config::Settings;
use crate::graphql;
use crate::http::{self, AppState};
use crate::service::{self, AppContext};
use crate::store;

/// A built application, listening but not yet serving.
pub struct App {
    listener: TcpListener,
    state: AppState,
    statements: store::StatementCounter,
    watch_interval: std::time::Duration,
    notifications: crate::config::NotificationSettings,
    drain: tokio::sync::watch::Sender<bool>,
    cors_origins: Vec<axum::http::HeaderValue>,
}

/// Applies every pending migration, then attributes usage recorded before attribution
/// existed (the data part of migration 2, done with the same rules as ingestion).
pub async fn prepare_database(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    store::migrate(db).await?;
    if service::attribution::backfill(db)
        .await
        .map_err(|e| anyhow::anyhow!("attributing earlier usage failed: {}", e.message()))?
    {
        tracing::info!("attributed usage recorded before attribution existed");
    }
    Ok(())
}

impl App {
    /// Connects, migrates, makes the first key and the demo when asked, and binds.
    pub async fn build(settings: &Settings) -> anyhow::Result<App> {
        let clock = settings.clock();
        let cors_origins = settings.cors_origins().map_err(|e| anyhow::anyhow!(e))?;
        if let Some(at) = settings.clock {
            tracing::warn!(now = %at, "QUOTAGRAPH_CLOCK is set: the server's clock is pinned and does not move");
        }
        // Counting starts with the process, not with the first scrape.
        http::prometheus::handle();
        let mut db = store::connect_with(&settings.database_url, &settings.pool).await?;
        prepare_database(&db).await?;
        let statements = store::StatementCounter::install(&mut db);
        let writer = store::writer_with(&db, &settings.database_url, &settings.pool).await?;
        let events = crate::events::Bus::start(&db).await?;
        if settings.key_pepper.is_none() {
            tracing::warn!("QUOTAGRAPH_KEY_PEPPER is not set: API key hashes are keyed with an empty pepper");
        }
        let pepper = service::api_key::Pepper::new(settings.key_pepper.as_deref().unwrap_or_default());
        let context = AppContext {
            db,
            writer,
            clock,
            events,
            pepper,
            watcher: Default::default(),
            memo: Default::default(),
            groups: Default::default(),
            webhooks: std::sync::Arc::new(
                service::webhook::Webhooks::from_settings(&settings.notifications).map_err(|e| anyhow::anyhow!(e))?,
            ),
            event_retention_days: settings.event_retention_days,
        };
        if let Some(secret) = service::api_key::bootstrap(&context, settings.bootstrap_key.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("creating the first key failed: {}", e.message()))?
            && settings.bootstrap_key.is_none()
        {
            println!("First SYSTEM API key (shown once, keep it safe): {secret}");
        }
        if settings.demo {
            match service::demo::seed(&context).await {
                Ok(Some(demo)) => println!("{demo}"),
                Ok(None) => tracing::info!("the store is not empty: no demo data added"),
                Err(e) => anyhow::bail!("creating the demo failed: {}", e.message()),
            }
        }
        let schemas = graphql::Schemas::build(graphql::limits::Limits::from(&settings.limits), context.clone());
        let listener = TcpListener::bind(&settings.bind).await?;
        let (draining, drain) = http::Draining::new();
        Ok(App {
            listener,
            state: AppState {
                context,
                schemas,
                limiter: std::sync::Arc::new(http::rate_limit::RateLimiter::new(
                    settings.limits.rate_per_second,
                    settings.limits.rate_burst,
                )),
                connections: graphql::ws_limits::Connections::new(settings.limits.max_connections_per_key),
                max_subscriptions: settings.limits.max_subscriptions,
                draining,
            },
            drain,
            cors_origins,
            statements,
            watch_interval: std::time::Duration::from_millis(settings.watch_interval_ms.max(10)),
            notifications: settings.notifications.clone(),
        })
    }

    /// The port it listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The clock every rule reads (tests move a pinned one).
    pub fn clock(&self) -> crate::clock::Clock {
        self.state.context.clock.clone()
    }

    /// The number of SQL statements run so far.
    pub fn statements(&self) -> store::StatementCounter {
        self.statements.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight and closes the pool.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let playground = if cfg!(feature = "playground-assets") {
            "playground at /graphql"
        } else {
            "built without the playground"
        };
        tracing::info!(address = %self.listener.local_addr()?, "quotagraph listening; {playground}");
        let db = self.state.context.db.clone();
        let ticker = tokio::spawn(service::watch::run_ticker(
            self.state.context.clone(),
            self.watch_interval,
            self.notifications.notification_retention_days,
        ));
        let sender = tokio::spawn(service::webhook_delivery::run(
            self.state.context.clone(),
            self.watch_interval,
        ));
        let follower = tokio::spawn(service::memo::follow_other_replicas(self.state.context.clone()));
        let drain = self.drain;
        let draining = self.state.draining.clone();
        let served = axum::serve(self.listener, http::router(self.state, self.cors_origins))
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: finishing requests in flight, closing WebSockets");
                let _ = drain.send(true);
            })
            .await;
        // Let the WebSockets send their close frames (1001) before the process ends.
        draining.sockets_closed(std::time::Duration::from_secs(5)).await;
        ticker.abort();
        sender.abort();
        follower.abort();
        // Wait for the ticker and the webhook sender to let go of their connections before
        // the pool closes (a delivery cut short is attempted again after its lease).
        let _ = ticker.await;
        let _ = sender.await;
        served?;
        db.close().await?;
        Ok(())
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
