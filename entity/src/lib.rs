//! SeaORM models of quotagraph's tables: plain data, no business rules.
//! Quantities are BIGINT counts of ten-thousandths of a unit.

pub mod allocation;
pub mod api_key;
pub mod audit_entry;
pub mod capacity_top_up;
pub mod chain_node;
pub mod consumption_control;
pub mod folder;
pub mod job;
pub mod license;
pub mod notification;
pub mod organization;
pub mod organization_alert_threshold;
pub mod process;
pub mod quota_mark;
pub mod service;
pub mod tenant;
pub mod unit_type;
pub mod usage_attribution_daily;
pub mod usage_attribution_monthly;
pub mod usage_attribution_services_daily;
pub mod usage_daily;
pub mod usage_event;
pub mod usage_list_daily;
pub mod usage_list_monthly;
pub mod usage_monthly;
pub mod usage_process_daily;
pub mod usage_process_monthly;
pub mod webhook_delivery;
pub mod webhook_endpoint;
