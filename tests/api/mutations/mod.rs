//! Every mutation over real HTTP: what it makes or changes, and each refusal with its
//! `extensions.code` (docs/design.md §6, §8). A refused mutation writes nothing.
//! One file per kind of object.

mod allocations;
mod api_keys;
mod folders;
mod licenses;
mod organizations;
mod tenants;
mod unit_types;
