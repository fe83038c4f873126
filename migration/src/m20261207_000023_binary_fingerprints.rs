//! An event's fingerprint is stored as 16 bytes, the first half of its SHA-256, instead of
//! the whole hash in 64 hexadecimal characters: about 48 bytes less per event. Stored
//! fingerprints keep their first 16 bytes, so a resend of an event recorded before compares
//! equal. Going back keeps those 16 bytes too, as 32 characters: the earlier code, which
//! compares all 64, would then answer CONFLICT to a resend of an event recorded before.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "ALTER TABLE usage_events ALTER COLUMN fingerprint TYPE bytea \
                 USING decode(substr(fingerprint, 1, 32), 'hex')"
            }
            // SQLite stores whatever a row holds; the column's declared type stays.
            _ => "UPDATE usage_events SET fingerprint = unhex(substr(fingerprint, 1, 32))",
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "ALTER TABLE usage_events ALTER COLUMN fingerprint TYPE varchar USING encode(fingerprint, 'hex')"
            }
            _ => "UPDATE usage_events SET fingerprint = lower(hex(fingerprint))",
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}
