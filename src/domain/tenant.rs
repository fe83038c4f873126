//! A tenant's lifecycle: `ACTIVE` ⇄ `DISABLED`, and `DELETED` as a soft delete
//! from which there is no way back (its history stays and still counts).

use std::fmt;

/// The lifecycle state of a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TenantState {
    Active,
    Disabled,
    Deleted,
}

impl TenantState {
    /// The stored and exported spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            TenantState::Active => "ACTIVE",
            TenantState::Disabled => "DISABLED",
            TenantState::Deleted => "DELETED",
        }
    }

    /// Whether a tenant may move from `self` to `next`: a deleted tenant stays deleted.
    pub fn may_become(self, next: TenantState) -> bool {
        self != TenantState::Deleted || next == TenantState::Deleted
    }
}

impl fmt::Display for TenantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TenantState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ACTIVE" => Ok(TenantState::Active),
            "DISABLED" => Ok(TenantState::Disabled),
            "DELETED" => Ok(TenantState::Deleted),
            other => Err(format!("unknown tenant state '{other}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TenantState::*;

    #[test]
    fn deleted_is_final() {
        assert!(Active.may_become(Disabled));
        assert!(Disabled.may_become(Active));
        assert!(Active.may_become(Deleted));
        assert!(!Deleted.may_become(Active));
        assert!(!Deleted.may_become(Disabled));
        assert!(Deleted.may_become(Deleted));
    }
}
