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

use crate::check::{Card, DashboardSums, FolderRow, FolderViewSums, TenantSumsByKind, TreeFolder, TreeTenant, tree};
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

/// Folder `f` and every folder below it (by index).
fn subtree(plan: &Plan, f: usize) -> Vec<usize> {
    let mut folders = vec![f];
    let mut i = 0;
    while i < folders.len() {
        let parent = folders[i];
        folders.extend(
            plan.tenant_folders[plan.folder_tenant[f]]
                .iter()
                .filter(|c| plan.folder_parent[**c] == Some(parent)),
        );
        i += 1;
    }
    folders
}

/// What ran in folder `f` and its subfolders (EXECUTION).
fn subtree_sum(plan: &Plan, sums: &Sums, f: usize) -> i64 {
    subtree(plan, f).into_iter().map(|g| sums.executed_in[g]).sum()
}

/// The top-level folder of tenant `t` (by index) with the most consumption in EXECUTION
/// (ties: the first made).
pub fn heaviest_folder(plan: &Plan, sums: &Sums, t: usize) -> usize {
    let mut best: Option<(usize, i64)> = None;
    for f in plan.tenant_folders[t]
        .iter()
        .filter(|f| plan.folder_parent[**f].is_none())
    {
        let total = subtree_sum(plan, sums, *f);
        if best.is_none_or(|(_, b)| total > b) {
            best = Some((*f, total));
        }
    }
    best.expect("every tenant has top-level folders").0
}

/// The folder view of folder `f` (by index) in EXECUTION over the current bundle.
pub fn folder_view(plan: &Plan, sums: &Sums, world: &World, f: usize) -> Value {
    let t = plan.folder_tenant[f];
    let folders = subtree(plan, f);
    let mut days = vec![0i64; generator::DAYS as usize];
    let mut services = [0i64; SERVICES.len()];
    for g in &folders {
        for (d, s) in sums.folder_day[*g].iter().enumerate() {
            days[d] += s;
        }
        for (i, s) in sums.folder_service[*g].iter().enumerate() {
            services[i] += s;
        }
    }
    let view = FolderViewSums {
        name: world.folder_names[f].clone(),
        tenant: world.tenants[t],
        tenant_name: world.tenant_names[t].clone(),
        consumed: folders.iter().map(|g| sums.executed_in[*g]).sum(),
        children: plan.tenant_folders[t]
            .iter()
            .filter(|c| plan.folder_parent[**c] == Some(f))
            .map(|c| {
                (
                    world.folders[*c],
                    world.folder_names[*c].clone(),
                    subtree_sum(plan, sums, *c),
                )
            })
            .collect(),
        processes: sums
            .folder_process
            .iter()
            .filter(|((g, _), _)| *g == f)
            .map(|((_, p), s)| (world.processes[*p], world.process_names[*p].clone(), *s))
            .collect(),
        days: days
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s != 0)
            .map(|(d, s)| (generator::first_day() + Days::new(d as u64), s))
            .collect(),
        // Services are named by their code until the operator renames them.
        services: SERVICES
            .iter()
            .zip(services)
            .map(|(code, s)| ((*code).to_owned(), (*code).to_owned(), s))
            .collect(),
    };
    view.folder_view(generator::first_day(), today())
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
