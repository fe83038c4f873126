//! `GET /export/{report}.csv`: an export read as CSV, or the refusal of one.

use serde_json::Value;

use super::{TestApp, content_type};

/// Fetches the export `report` with the query `query` and parses it: the header row and
/// the records.
pub async fn export(app: &TestApp, key: &str, report: &str, query: &[(&str, &str)]) -> (Vec<String>, Vec<Vec<String>>) {
    let response = app
        .client
        .get(app.url(&format!("/export/{report}.csv")))
        .bearer_auth(key)
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{report}: {}", response.text().await.unwrap());
    assert_eq!(content_type(&response), "text/csv; charset=utf-8");
    let name = saved_as(&response);
    assert!(name.ends_with(".csv"), "{report}: saved as {name}");
    let body = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_ref());
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// The file name an export's `Content-Disposition: attachment; filename="…"` gives.
pub fn saved_as(response: &reqwest::Response) -> String {
    let header = response
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .expect("every export names its file")
        .to_str()
        .unwrap();
    header
        .strip_prefix("attachment; filename=\"")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not an attachment with a file name: {header}"))
        .to_owned()
}

/// The status and `extensions.code` of the refused export at `path` (with its query).
pub async fn export_refused(app: &TestApp, key: Option<&str>, path: &str) -> (u16, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}
