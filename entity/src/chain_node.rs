//! A node of a tenant's merged job-chain tree: the path of processes from a chain's root
//! run down to one run. Every run with the same path shares the node, so OWNERSHIP figures
//! can be read per node and expanded like a call tree.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chain_nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub tenant_id: Uuid,
    /// The node of the run that started these runs; none at a chain's root.
    pub parent_id: Option<Uuid>,
    /// The process these runs belong to; none for runs that named no process.
    pub process_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
