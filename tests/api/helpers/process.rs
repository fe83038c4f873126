//! The real binary in a process of its own, for what only a process shows: its logs, its
//! signals, its exporters, a crash that must not take the test binary down, two servers
//! on one database.

use std::process::{Child, Command, Stdio};

use super::{DEFAULT_NOW, KEY_PEPPER, SYSTEM_KEY, TestDatabase};

/// `quotagraph serve` on a free port. Killed if a test fails before ending it.
pub struct ServerProcess {
    child: Option<Child>,
    pub address: String,
    /// The database it serves.
    pub database_url: String,
    /// Its own database; none when it serves another server's.
    database: Option<TestDatabase>,
}

impl ServerProcess {
    /// Starts the binary over a fresh database, with the test key, pepper and clock, plus
    /// `env`; returns once it answers.
    pub async fn start(env: &[(&str, &str)]) -> ServerProcess {
        let database = TestDatabase::new().await;
        let url = database.url.clone();
        Self::launch(&url, Some(database), env, Stdio::piped()).await
    }

    /// Starts the binary as [`ServerProcess::start`] does, over the database of another
    /// server (which keeps it). Its stderr is not kept: nothing reads it while it runs, and
    /// a full pipe would stall it.
    pub async fn on(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        Self::launch(database_url, None, env, Stdio::null()).await
    }

    async fn launch(
        database_url: &str,
        database: Option<TestDatabase>,
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let address = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_quotagraph"));
        command
            .env("QUOTAGRAPH_BIND", &address)
            .env("DATABASE_URL", database_url)
            .env("QUOTAGRAPH_BOOTSTRAP_KEY", SYSTEM_KEY)
            .env("QUOTAGRAPH_KEY_PEPPER", KEY_PEPPER)
            .env("QUOTAGRAPH_CLOCK", DEFAULT_NOW)
            .stdout(Stdio::null())
            .stderr(stderr);
        for (name, value) in env {
            command.env(name, value);
        }
        let server = ServerProcess {
            child: Some(command.spawn().expect("the binary starts")),
            address,
            database_url: database_url.to_owned(),
            database,
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

    /// Sends SIGKILL (no shutdown at all, as in a crash) and waits for the process to end;
    /// its database stays, for a server started on it next ([`ServerProcess::on`]).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL is sent");
            child.wait().expect("the process ends");
        }
    }

    /// Sends SIGTERM and waits for the process to end; returns whether it exited with
    /// success, and what it wrote on stderr.
    pub async fn terminate(mut self) -> (bool, String) {
        let child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM was not sent");
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("the waiter ends")
            .expect("the process ends");
        if let Some(database) = self.database.take() {
            database.remove().await;
        }
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for ServerProcess {
    /// The process ends before its database is removed (the `database` field drops after
    /// this).
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
