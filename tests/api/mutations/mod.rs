//! Every mutation over real HTTP: what it makes or changes, and each refusal with its
//! `extensions.code` (docs/design.md §6, §8). A refused mutation writes nothing.
//! One file per kind of object; the documents and readers they share are here.

mod allocations;
mod api_keys;
mod folders;
mod licenses;
mod organizations;
mod tenants;
mod unit_types;

const CREATE_UNIT_TYPE: &str = "mutation($input: CreateUnitTypeInput!) {
    createUnitType(input: $input) { unitType { id code name } }
}";

const UPDATE_TENANT: &str = "mutation($input: UpdateTenantInput!) {
    updateTenant(input: $input) { tenant { id name state } }
}";
