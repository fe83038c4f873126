//! The stored data: a row count of every table, and every column of every row.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

pub(super) struct Probe {
    pub(super) db: DatabaseConnection,
    /// Every table and the columns compared (all but those any request may touch).
    pub(super) tables: Vec<(String, Vec<String>)>,
    pub(super) postgres: bool,
}

impl Probe {
    pub(super) async fn connect(url: &str) -> Probe {
        let db = Database::connect(url).await.unwrap();
        let postgres = url.starts_with("postgres");
        let list = if postgres {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        };
        let mut tables = Vec::new();
        for row in db
            .query_all_raw(Statement::from_string(db.get_database_backend(), list))
            .await
            .unwrap()
        {
            let table: String = row.try_get_by_index(0).unwrap();
            // Written on purpose by refused requests (an ADMISSION_REFUSED notification and
            // its webhook deliveries), and by the webhook sender in the background.
            if matches!(table.as_str(), "notifications" | "webhook_deliveries") {
                continue;
            }
            let columns_sql = if postgres {
                format!(
                    "SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
                )
            } else {
                format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
            };
            let columns = db
                .query_all_raw(Statement::from_string(db.get_database_backend(), columns_sql))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .filter(|c| {
                    !matches!(
                        (table.as_str(), c.as_str()),
                        ("api_keys", "last_used_at") | ("quota_marks", "updated_at")
                    )
                })
                .collect();
            tables.push((table, columns));
        }
        assert!(tables.len() >= 10, "{tables:?}");
        Probe { db, tables, postgres }
    }

    /// The number of rows of every table, in one statement.
    pub(super) async fn counts(&self) -> Vec<i64> {
        let parts: Vec<String> = self
            .tables
            .iter()
            .enumerate()
            .map(|(i, (t, _))| format!("(SELECT COUNT(*) FROM \"{t}\") AS c{i}"))
            .collect();
        let sql = format!("SELECT {}", parts.join(", "));
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        (0..self.tables.len())
            .map(|i| row.try_get_by_index::<i64>(i).unwrap())
            .collect()
    }

    /// Every compared value of every row, one line a row, sorted.
    pub(super) async fn dump(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (table, columns) in &self.tables {
            if columns.is_empty() {
                continue;
            }
            let values: Vec<String> = columns
                .iter()
                .map(|c| {
                    if self.postgres {
                        format!("CAST(\"{c}\" AS TEXT)")
                    } else {
                        format!("quote(\"{c}\")")
                    }
                })
                .collect();
            let sql = format!("SELECT {} FROM \"{table}\"", values.join(", "));
            for row in self
                .db
                .query_all_raw(Statement::from_string(self.db.get_database_backend(), sql))
                .await
                .unwrap()
            {
                let cells: Vec<String> = (0..columns.len())
                    .map(|i| {
                        row.try_get_by_index::<Option<String>>(i)
                            .unwrap()
                            .unwrap_or_else(|| "NULL".into())
                    })
                    .collect();
                lines.push(format!("{table}|{}", cells.join("|")));
            }
        }
        lines.sort();
        lines
    }

    /// The dump once the watcher is done with the setup's writes.
    pub(super) async fn settled_dump(&self) -> Vec<String> {
        let mut last = self.dump().await;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = self.dump().await;
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("the stored data does not settle");
    }
}

pub(super) fn dump_diff(before: &[String], after: &[String]) -> String {
    let gone: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    let new: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    format!("rows gone: {gone:#?}\nrows new: {new:#?}")
}
