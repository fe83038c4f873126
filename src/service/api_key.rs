//! API keys (docs/design.md §8): random secrets shown once, stored as HMAC-SHA-256 under a
//! server-side pepper (docs/design.md §14). A secret carries 256 random bits, so a slow password
//! hash would cost every request milliseconds and protect nothing more; the pepper keeps a
//! stolen table of hashes from being checked offline.
//!
//! A secret reads `qg_<key id>_<random>`: the key is fetched by its id and the hash compared
//! in constant time. Secrets without an id (an operator-chosen bootstrap secret, keys made
//! before ids were embedded) are found by their hash; keys stored as a bare SHA-256 by
//! earlier versions still work.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{AppContext, audit, clean_name, memo, require};
use crate::domain::{
    access::{Access, Actor, Role, check_key_scope},
    ids::{ApiKeyId, OrganizationId, TenantId},
};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::api_key::Model;

/// The prefix of every secret, so a leaked one is easy to recognise.
const PREFIX: &str = "qg_";

/// How a stored hash made with the pepper begins.
const PEPPERED: &str = "hmac-sha256:";

/// The server-side key of the secrets' HMAC (`--key-pepper`); the same on every replica.
#[derive(Clone, Default)]
pub struct Pepper(Arc<[u8]>);

impl Pepper {
    pub fn new(secret: &str) -> Self {
        Pepper(secret.as_bytes().into())
    }

    /// The pepper itself, which also keys the webhook secrets' encryption.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn mac(&self, secret: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(secret.as_bytes());
        mac
    }

    /// What is stored for `secret`.
    fn hash(&self, secret: &str) -> String {
        format!("{PEPPERED}{}", hex::encode(self.mac(secret).finalize().into_bytes()))
    }

    /// Whether `secret` is the one behind `stored`, compared in constant time.
    fn verifies(&self, secret: &str, stored: &str) -> bool {
        match stored.strip_prefix(PEPPERED) {
            Some(digest) => hex::decode(digest).is_ok_and(|digest| self.mac(secret).verify_slice(&digest).is_ok()),
            None => legacy_hash(secret).as_bytes().ct_eq(stored.as_bytes()).into(),
        }
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(…)")
    }
}

/// How keys made before the pepper were stored.
fn legacy_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new key's id and secret.
fn new_secret() -> (Uuid, String) {
    let id = Uuid::now_v7();
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    (id, format!("{PREFIX}{}_{}", id.simple(), hex::encode(bytes)))
}

/// The key id a secret names, if it has one.
fn id_in(secret: &str) -> Option<Uuid> {
    let (id, _) = secret.strip_prefix(PREFIX)?.split_once('_')?;
    (id.len() == 32).then(|| Uuid::try_parse(id).ok()).flatten()
}

/// The actor a stored key stands for.
pub fn actor_of(key: &Model) -> AppResult<Actor> {
    Ok(Actor {
        key_id: ApiKeyId(key.id),
        role: key
            .role
            .parse()
            .map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))?,
        organization_id: key.organization_id.map(OrganizationId),
        tenant_id: key.tenant_id.map(TenantId),
    })
}

/// The caller behind a Bearer secret, or UNAUTHENTICATED.
pub async fn authenticate(ctx: &AppContext, secret: &str) -> AppResult<Actor> {
    let key = match id_in(secret) {
        Some(id) => kept_key(ctx, KeyRef::Id(id)).await?,
        None => match kept_key(ctx, KeyRef::Hash(ctx.pepper.hash(secret))).await? {
            Some(key) => Some(key),
            None => kept_key(ctx, KeyRef::Hash(legacy_hash(secret))).await?,
        },
    };
    let key = key
        .filter(|key| key.revoked_at.is_none() && ctx.pepper.verifies(secret, &key.secret_hash))
        .ok_or(AppError::Unauthenticated)?;
    let now = ctx.clock.now();
    let since = now - chrono::TimeDelta::minutes(1);
    if key.last_used_at.is_none_or(|at| at < since) {
        store::api_key::touch(&ctx.db, key.id, now, since).await?;
        // The kept key still shows the use before: read it again rather than touch again.
        ctx.memo.forget(memo::RECORDS);
    }
    actor_of(&key)
}

/// How a secret names its key: by the id it carries, or by its hash (a secret chosen by
/// the operator, or issued before secrets carried their key's id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum KeyRef {
    Id(Uuid),
    Hash(String),
}

/// The key a secret names, as kept in memory or read.
async fn kept_key(ctx: &AppContext, key: KeyRef) -> AppResult<Option<Arc<Model>>> {
    let read = async {
        let found = match &key {
            KeyRef::Id(id) => store::api_key::find(&ctx.db, *id).await?,
            KeyRef::Hash(hash) => store::api_key::find_by_hash(&ctx.db, hash).await?,
        };
        Ok(found.map(Arc::new))
    };
    ctx.memo.found_or_read(&ctx.memo.keys, key.clone(), read).await
}

/// A new key and its secret, which is never shown again.
pub struct IssuedKey {
    pub key: Model,
    pub secret: String,
}

/// What a new key is for.
pub struct NewKey {
    pub organization_id: Option<OrganizationId>,
    pub tenant_id: Option<TenantId>,
    pub role: Role,
    pub name: String,
}

/// A key as the audit log shows it (never its secret or hash).
fn key_json(key: &Model) -> serde_json::Value {
    serde_json::json!({
        "name": key.name,
        "role": key.role,
        "organizationId": key.organization_id,
        "tenantId": key.tenant_id,
        "revokedAt": key.revoked_at,
    })
}

pub async fn create(ctx: &AppContext, actor: &Actor, input: NewKey) -> AppResult<IssuedKey> {
    let mut organization_id = input.organization_id;
    if let Some(tenant_id) = input.tenant_id {
        let tenant = super::tenant::visible(&ctx.db, actor, tenant_id).await?;
        if organization_id.is_some_and(|o| o.0 != tenant.organization_id) {
            return Err(AppError::bad_input("tenantId is not a tenant of organizationId"));
        }
        organization_id = Some(OrganizationId(tenant.organization_id));
    }
    if let Some(org) = organization_id {
        super::organization::visible(ctx, actor, org).await?;
    }
    require(
        actor.manage_keys(organization_id, input.role),
        "organization",
        "create API keys of that role",
    )?;
    check_key_scope(input.role, organization_id.is_some(), input.tenant_id.is_some())
        .map_err(|e| AppError::bad_input(e.to_string()))?;
    let (id, secret) = new_secret();
    let model = Model {
        id,
        name: clean_name("name", &input.name)?,
        role: input.role.as_str().to_owned(),
        organization_id: organization_id.map(|o| o.0),
        tenant_id: input.tenant_id.map(|t| t.0),
        secret_hash: ctx.pepper.hash(&secret),
        created_at: ctx.clock.now(),
        revoked_at: None,
        last_used_at: None,
    };
    let tx = store::begin_write(&ctx.writer).await?;
    let key = store::api_key::insert(&tx, model).await?;
    let change = audit::Change::of(key.organization_id, "createApiKey", "ApiKey", Some(key.id)).after(key_json(&key));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(IssuedKey { key, secret })
}

/// A key the caller may see: its own, or one it may manage.
pub async fn get(ctx: &AppContext, actor: &Actor, id: ApiKeyId) -> AppResult<Option<Model>> {
    let Some(key) = store::api_key::find(&ctx.db, id.0).await? else {
        return Ok(None);
    };
    let role: Role = key
        .role
        .parse()
        .map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))?;
    let mine = key.id == actor.key_id.0;
    Ok((mine || actor.manage_keys(key.organization_id.map(OrganizationId), role) == Access::Allowed).then_some(key))
}

pub async fn revoke(ctx: &AppContext, actor: &Actor, id: ApiKeyId) -> AppResult<Model> {
    let key = store::api_key::find(&ctx.db, id.0)
        .await?
        .ok_or_else(|| AppError::not_found("API key"))?;
    let role: Role = key
        .role
        .parse()
        .map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))?;
    require(
        actor.manage_keys(key.organization_id.map(OrganizationId), role),
        "API key",
        "revoke that API key",
    )?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let now = ctx.clock.now();
    let tx = store::begin_write(&ctx.writer).await?;
    store::api_key::revoke(&tx, key.id, now).await?;
    let revoked = Model {
        revoked_at: Some(now),
        ..key.clone()
    };
    let change = audit::Change::of(key.organization_id, "revokeApiKey", "ApiKey", Some(key.id))
        .before(key_json(&key))
        .after(key_json(&revoked));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    // Requests here stop taking the key at once, on other replicas when this notice
    // arrives (within `memo::MAX_AGE` at worst); open subscriptions end with it.
    ctx.memo.forget(memo::RECORDS);
    ctx.events.revoke(key.id).await;
    Ok(revoked)
}

/// On an empty store, creates the first SYSTEM key: from `secret` when given, else a
/// fresh one. Returns the secret when a key was created and should be shown.
pub async fn bootstrap(ctx: &AppContext, secret: Option<&str>) -> AppResult<Option<String>> {
    if store::api_key::any(&ctx.db).await? {
        return Ok(None);
    }
    let (id, secret) = match secret {
        Some(chosen) => (Uuid::now_v7(), chosen.to_owned()),
        None => new_secret(),
    };
    let model = Model {
        id,
        name: "bootstrap".into(),
        role: Role::System.as_str().into(),
        organization_id: None,
        tenant_id: None,
        secret_hash: ctx.pepper.hash(&secret),
        created_at: ctx.clock.now(),
        revoked_at: None,
        last_used_at: None,
    };
    store::api_key::insert(&ctx.db, model).await?;
    Ok(Some(secret))
}

/// Issues a key directly, for the demo's printed keys.
pub(crate) async fn issue(ctx: &AppContext, role: Role, organization: Uuid, name: &str) -> AppResult<String> {
    let (id, secret) = new_secret();
    let model = Model {
        id,
        name: name.into(),
        role: role.as_str().into(),
        organization_id: Some(organization),
        tenant_id: None,
        secret_hash: ctx.pepper.hash(&secret),
        created_at: ctx.clock.now(),
        revoked_at: None,
        last_used_at: None,
    };
    store::api_key::insert(&ctx.db, model).await?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_name_their_key_and_verify_only_under_their_pepper() {
        let (id, secret) = new_secret();
        assert_eq!(id_in(&secret), Some(id));
        assert_eq!(secret.len(), PREFIX.len() + 32 + 1 + 64);
        let pepper = Pepper::new("pepper");
        let stored = pepper.hash(&secret);
        assert!(stored.starts_with(PEPPERED));
        assert!(pepper.verifies(&secret, &stored));
        assert!(!pepper.verifies(&format!("{secret}x"), &stored));
        assert!(!Pepper::new("other").verifies(&secret, &stored));
        assert!(!pepper.verifies(&secret, "hmac-sha256:not hex"));
    }

    #[test]
    fn keys_stored_before_the_pepper_still_verify() {
        let pepper = Pepper::new("pepper");
        let stored = legacy_hash("qg_old_secret");
        assert!(pepper.verifies("qg_old_secret", &stored));
        assert!(!pepper.verifies("qg_other_secret", &stored));
        assert_eq!(id_in("qg_old_secret"), None);
        assert_eq!(id_in("qg_system_key_for_tests"), None);
    }
}
