//! One run of a process, named by the caller's run id (unique in the tenant). `root_id` is the first job of its chain (itself for a root).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub tenant_id: Uuid,
    pub external_id: String,
    pub process_id: Option<Uuid>,
    pub folder_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub root_id: Uuid,
    /// The process of the root job, the owner in OWNERSHIP attribution.
    pub root_process_id: Option<Uuid>,
    /// Its node in the tenant's merged chain tree (set for every job since migration 2).
    pub node_id: Option<Uuid>,
    /// The folder its chain is owed to in OWNERSHIP attribution; none when the root names none.
    pub owner_folder_id: Option<Uuid>,
    /// Runs above it in its chain (0 for a root; jobs recorded before migration 5 count 0).
    pub depth: i32,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
