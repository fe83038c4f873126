//! Export links (docs/design.md §15.5): made with the rights of the calling key, and
//! checked again on every download, so a revoked key's links stop working at once.

use chrono::{DateTime, TimeDelta, Utc};

use super::{AppContext, api_key};
use crate::domain::{
    access::Actor,
    authorization::{EXPORTS, export_rule},
    export_link::{self, Claims, Refusal},
    ids::OrganizationId,
};
use crate::error::{AppError, AppResult};
use crate::store;

/// A download URL, relative to the server's origin, and when it stops working.
pub struct Link {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A link to `report` with the query `pairs` (the organization's among them), for `actor`.
/// The checks a download would make of the role and the parameters are made now, so that a
/// link that could only be refused is never handed out.
pub async fn create(
    ctx: &AppContext,
    actor: &Actor,
    report: &str,
    organization: OrganizationId,
    pairs: Vec<(String, String)>,
) -> AppResult<Link> {
    let (rule, taken) = export_rule(report)
        .zip(export_link::parameters(report))
        .ok_or_else(|| {
            let reports: Vec<_> = EXPORTS.iter().map(|(r, _)| *r).collect();
            AppError::bad_input(format!(
                "report: no report '{report}'; the reports are {}",
                reports.join(", ")
            ))
        })?;
    if !rule.admits(actor.role) {
        return Err(AppError::Forbidden(format!(
            "your API key's role ({}) may not export {report}.csv",
            actor.role
        )));
    }
    if let Some((name, _)) = pairs.iter().find(|(name, _)| !taken.contains(&name.as_str())) {
        return Err(AppError::bad_input(format!(
            "{report}.csv does not take '{name}'; it takes {}",
            taken.join(", ")
        )));
    }
    super::organization::visible(ctx, actor, organization).await?;
    let expires_at = ctx.clock.now() + TimeDelta::seconds(export_link::LIFETIME_SECS);
    let query = export_link::canonical(&pairs);
    let claims = Claims {
        key_id: actor.key_id.0,
        expires: expires_at.timestamp(),
        report: report.to_owned(),
        query,
    };
    let token = export_link::sign(ctx.pepper.bytes(), &claims);
    Ok(Link {
        url: format!(
            "/export/{report}.csv?{}&{}={token}",
            claims.query,
            export_link::TOKEN_PARAMETER
        ),
        expires_at,
    })
}

/// The caller behind a link's `token`, for a download of `report` with the other query
/// parameters `pairs`: the key that made it, as a Bearer request with that key would be.
pub async fn authenticate(ctx: &AppContext, token: &str, report: &str, pairs: &[(String, String)]) -> AppResult<Actor> {
    let now = ctx.clock.now().timestamp();
    let claims = export_link::verify(ctx.pepper.bytes(), token, now, report, &export_link::canonical(pairs))
        .map_err(|refusal| {
            AppError::LinkRefused(
                match refusal {
                    Refusal::Invalid => "this export link is not valid: it was altered or not made by this server",
                    Refusal::Expired => "this export link expired (links work for 5 minutes)",
                    Refusal::OtherRequest => {
                        "this export link was made for another report or other parameters: a link's query cannot be changed"
                    }
                }
                .to_owned()
                    + "; ask createExportLink for a new one",
            )
        })?;
    let key = store::api_key::find(&ctx.db, claims.key_id)
        .await?
        .filter(|key| key.revoked_at.is_none())
        .ok_or_else(|| AppError::LinkRefused("the API key that made this export link was revoked".into()))?;
    api_key::actor_of(&key)
}
