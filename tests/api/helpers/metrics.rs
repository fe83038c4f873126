//! What `/metrics` says.

use super::TestApp;

/// The value of the series `name{labels}` in a Prometheus text answer.
pub fn series(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|line| {
            line.starts_with(&format!("{name}{{")) && labels.iter().all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
                || labels.is_empty() && line.starts_with(&format!("{name} "))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// The server's `/metrics` answer.
pub async fn metrics(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
