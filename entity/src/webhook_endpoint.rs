//! A webhook endpoint of an organization. The signing secret is stored encrypted with a
//! key derived from the server's pepper (see `service::webhook`), never in the clear.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Only this tenant's events, when set.
    pub tenant_id: Option<Uuid>,
    pub url: String,
    /// The kinds it wants, as the API spells them, comma-separated.
    pub kinds: String,
    pub description: Option<String>,
    /// The encrypted secret bytes, base64.
    pub secret: String,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
