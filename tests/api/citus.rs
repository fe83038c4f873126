//! The layout Citus needs (docs/operator.md, "Scaling out with Citus"), read off a migrated
//! database's catalog: every table distributed by organization carries `organization_id`;
//! on PostgreSQL it leads the primary key, every unique index holds it, and a foreign key
//! between two such tables carries it on both sides, while a reference table names no
//! distributed one.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::{TestApp, statements::DISTRIBUTED};

async fn rows(db: &impl ConnectionTrait, sql: &str) -> Vec<(String, String)> {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    db.query_all_raw(statement)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
        .collect()
}

fn distributed(table: &str) -> bool {
    DISTRIBUTED.contains(&table)
}

#[tokio::test]
async fn every_distributed_table_is_keyed_by_its_organization() {
    let app = TestApp::spawn().await;
    let db = quotagraph::store::connect(&app.database_url).await.unwrap();
    if db.get_database_backend() == DbBackend::Sqlite {
        for table in DISTRIBUTED {
            let columns = rows(&db, &format!("SELECT name, type FROM pragma_table_info('{table}')")).await;
            assert!(
                columns.iter().any(|(name, _)| name == "organization_id"),
                "{table} carries its organization"
            );
        }
    } else {
        let keys = rows(
            &db,
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE contype = 'p' AND connamespace = 'public'::regnamespace",
        )
        .await;
        for table in DISTRIBUTED {
            let key = keys.iter().find(|(t, _)| t == table).map(|(_, k)| k.as_str());
            assert!(
                key.is_some_and(|k| k.starts_with("PRIMARY KEY (organization_id")),
                "{table}'s key is led by its organization: {key:?}"
            );
        }
        let unique = rows(
            &db,
            "SELECT tablename::text, indexdef FROM pg_indexes \
             WHERE schemaname = 'public' AND indexdef LIKE 'CREATE UNIQUE INDEX%'",
        )
        .await;
        for (table, index) in unique.iter().filter(|(t, _)| distributed(t)) {
            assert!(index.contains("organization_id"), "{table}: {index}");
        }
        let links = rows(
            &db,
            "SELECT conrelid::regclass::text || ' ' || confrelid::regclass::text, pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
        )
        .await;
        for (tables, link) in &links {
            let (from, to) = tables.split_once(' ').unwrap();
            match (distributed(from), distributed(to)) {
                (true, true) => assert!(
                    link.starts_with("FOREIGN KEY (organization_id,") && link.contains("(organization_id, "),
                    "{from} → {to}: {link}"
                ),
                (false, true) => panic!("the reference table {from} names the distributed {to}: {link}"),
                _ => {}
            }
        }
    }
    db.close().await.unwrap();
    app.finish().await;
}
