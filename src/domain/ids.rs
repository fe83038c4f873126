//! Typed identifiers, so that a tenant's id can never be passed where a folder's is
//! expected. Every id is a UUID v7: time-ordered, so ordering by id is creation order.

use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

typed_id!(
    /// An organization.
    OrganizationId,
    /// A unit type.
    UnitTypeId,
    /// A license.
    LicenseId,
    /// A tenant.
    TenantId,
    /// A folder.
    FolderId,
    /// A process.
    ProcessId,
    /// A service (product surface).
    ServiceId,
    /// A job (one run of a process).
    JobId,
    /// A usage event.
    UsageEventId,
    /// An allocation change.
    AllocationId,
    /// An API key.
    ApiKeyId,
);
