//! The answers the generator's own sums call for, independently of any database.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use quotagraph::domain::{
    Quantity,
    period::{LicenseTerms, Period},
    tenant::TenantState,
};
use serde_json::Value;
use uuid::Uuid;

use crate::check::{Card, DashboardSums, FolderRow, TenantSumsByKind, TreeFolder, TreeTenant, tree};
use crate::generator::{self, Plan, SERVICES, Sums};
use crate::setup::World;

/// The last day of the default range: "today" in the organization (UTC).
pub fn today() -> NaiveDate {
    generator::now().date_naive()
}

/// The dashboard license's terms and its current bundle.
pub fn dashboard_sums(plan: &Plan, sums: &Sums, world: &World) -> DashboardSums {
    let terms = LicenseTerms {
        period: Period::Year,
        starts_on: generator::first_day(),
        ends_on: None,
        capacity: Quantity::from_scaled(sums.capacity()),
        burst_percent: 100,
        burst_periods: 0,
    };
    let bundle = terms.bundle_containing(today()).expect("the license covers today");
    let allocations = sums.allocations();
    let mut cards: Vec<Card> = (0..plan.size.tenants)
        .map(|t| Card {
            id: world.tenants[t],
            name: world.tenant_names[t].clone(),
            state: TenantState::Active,
            allocated: allocations[t],
            consumed: sums.tenant[t],
        })
        .chain(world.w5_tenants.iter().enumerate().map(|(i, id)| Card {
            id: *id,
            name: format!("w5-{i}"),
            state: TenantState::Active,
            allocated: None,
            consumed: 0,
        }))
        .collect();
    cards.sort_by_key(|c| c.id);
    DashboardSums {
        terms,
        bundle,
        to: today(),
        cards,
    }
}

/// The tenant view of tenant `t` (by index).
pub fn tenant_view(plan: &Plan, sums: &Sums, world: &World, dashboard: &DashboardSums, t: usize) -> Value {
    let card = dashboard.card(world.tenants[t]).expect("the tenant has a card");
    let mut by_kind = TenantSumsByKind {
        days: sums.tenant_day[t]
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != 0)
            .map(|(d, s)| (generator::first_day() + Days::new(d as u64), *s))
            .collect(),
        services: SERVICES
            .iter()
            .zip(sums.tenant_service[t])
            .filter(|(_, s)| *s != 0)
            .map(|(code, s)| ((*code).to_owned(), s))
            .collect(),
        ..TenantSumsByKind::default()
    };
    let mut folders: Vec<FolderRow> = plan.tenant_folders[t]
        .iter()
        .map(|f| FolderRow {
            id: world.folders[*f],
            name: world.folder_names[*f].clone(),
            parent: plan.folder_parent[*f].map(|p| world.folders[p]),
        })
        .collect();
    folders.sort_by_key(|f| f.id);
    by_kind.folders = folders;
    let direct = |per_folder: &Vec<i64>| -> HashMap<Option<Uuid>, i64> {
        plan.tenant_folders[t]
            .iter()
            .map(|f| (Some(world.folders[*f]), per_folder[*f]))
            .chain([(None, sums.no_folder[t])])
            .collect()
    };
    by_kind.executed = direct(&sums.executed_in);
    by_kind.owned = direct(&sums.owned_by);
    by_kind.processes = plan.tenant_processes[t]
        .iter()
        .map(|p| {
            (
                world.processes[*p],
                world.process_names[*p].clone(),
                sums.process_own[*p],
            )
        })
        .collect();
    by_kind.tenant_view(card, generator::first_day(), today())
}

/// The tree every tenant's top-level folders and their processes make (W4).
pub fn tree_answer(plan: &Plan, world: &World) -> Value {
    let mut tenants: Vec<TreeTenant> = (0..plan.size.tenants)
        .map(|t| {
            let mut folders: Vec<TreeFolder> = plan.tenant_folders[t]
                .iter()
                .filter(|f| plan.folder_parent[**f].is_none())
                .map(|f| {
                    let mut processes: Vec<(Uuid, String)> = plan.folder_processes[*f]
                        .iter()
                        .map(|p| (world.processes[*p], world.process_names[*p].clone()))
                        .collect();
                    processes.sort();
                    (world.folders[*f], world.folder_names[*f].clone(), processes)
                })
                .collect();
            folders.sort();
            TreeTenant {
                id: world.tenants[t],
                name: world.tenant_names[t].clone(),
                folders,
            }
        })
        .chain(world.w5_tenants.iter().enumerate().map(|(i, id)| TreeTenant {
            id: *id,
            name: format!("w5-{i}"),
            folders: Vec::new(),
        }))
        .collect();
    tenants.sort_by_key(|t| t.id);
    tree(&tenants)
}
