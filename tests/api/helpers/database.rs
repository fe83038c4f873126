//! Each test's database of its own: a fresh PostgreSQL database when `TEST_DATABASE_URL`
//! is set (a PostgreSQL URL), otherwise a fresh SQLite file in the temp dir.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database};

/// A fresh, empty database. [`TestDatabase::remove`] removes it at the end of a test;
/// dropping it does too, when a test panics or forgets.
pub struct TestDatabase {
    pub url: String,
    place: Place,
}

enum Place {
    /// The SQLite file; its `-wal` and `-shm` siblings go with it.
    Sqlite(PathBuf),
    /// The URL the database was created through, and its name.
    Postgres { admin: String, name: String },
    /// Gone already (by [`TestDatabase::remove`]).
    Removed,
}

impl TestDatabase {
    pub async fn new() -> TestDatabase {
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
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    place: Place::Postgres { admin, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("quotagraph-test-{}.db", uuid::Uuid::now_v7().simple()));
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    place: Place::Sqlite(path),
                }
            }
        }
    }

    /// Removes the database now, without blocking the runtime as dropping it does.
    pub async fn remove(mut self) {
        match std::mem::replace(&mut self.place, Place::Removed) {
            Place::Sqlite(path) => remove_sqlite(&path),
            Place::Postgres { admin, name } => drop_postgres(&admin, &name).await,
            Place::Removed => {}
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.place, Place::Removed) {
            Place::Sqlite(path) => remove_sqlite(&path),
            Place::Postgres { admin, name } => {
                // Drop cannot await, and the test's runtime may be single-threaded (blocked
                // here) or unwinding: the statement runs on a thread and runtime of its own.
                let dropped = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime to drop the test database")
                        .block_on(drop_postgres(&admin, &name));
                });
                let _ = dropped.join();
            }
            Place::Removed => {}
        }
    }
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

async fn drop_postgres(admin: &str, name: &str) {
    if let Ok(db) = Database::connect(admin).await {
        let _ = db
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        db.close().await.ok();
    }
}
