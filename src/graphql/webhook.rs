//! Webhooks (docs/design.md §15.4): endpoints, their delivery log, and the mutations that
//! make, delete and retry. Endpoint and delivery ids are plain UUIDs (they are not nodes).

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, connection::Connection};
use uuid::Uuid;

use super::{
    cursor,
    node::{Kind, decode_field, decode_optional, encode},
    page_request,
    scalars::DateTime,
    session,
    subscription::{QuotaEvent, QuotaEventKind},
};
use crate::domain::events::QuotaEventKind as EventKind;
use crate::error::AppError;
use crate::service::{self, webhook::DeliveryView};

/// Where an organization's quota events are POSTed.
pub struct WebhookEndpoint(pub entity::webhook_endpoint::Model);

#[Object]
impl WebhookEndpoint {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The kinds of event it gets.
    async fn kinds(&self) -> Vec<QuotaEventKind> {
        EventKind::ALL
            .into_iter()
            .filter(|k| self.0.kinds.split(',').any(|s| s == k.as_str()))
            .map(Into::into)
            .collect()
    }

    /// Set when it gets only this tenant's events.
    async fn tenant_id(&self) -> Option<ID> {
        self.0.tenant_id.map(|t| encode(Kind::Tenant, t))
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// What was sent to it, newest first.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, WebhookDelivery>> {
        let (app, _) = session(ctx)?;
        let has_previous = after.is_some();
        let page = page_request(first, after)?;
        let (rows, more) = service::webhook::deliveries(app, &self.0, page.after, page.limit).await?;
        let mut connection = Connection::new(has_previous, more);
        connection.edges.extend(
            rows.into_iter()
                .map(|view| async_graphql::connection::Edge::new(cursor(view.delivery.id), WebhookDelivery(view))),
        );
        Ok(connection)
    }
}

/// How a delivery stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx answer came back.
    Succeeded,
    /// Every attempt of the retry schedule failed; `retryWebhookDelivery` tries once more.
    Failed,
}

/// One event sent (or to send) to one endpoint.
pub struct WebhookDelivery(DeliveryView);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.delivery.id.to_string())
    }

    /// The event it carries.
    async fn event(&self) -> QuotaEvent {
        QuotaEvent::new(Arc::new(self.0.event.clone()))
    }

    async fn status(&self) -> WebhookDeliveryStatus {
        match self.0.delivery.status.as_str() {
            "SUCCEEDED" => WebhookDeliveryStatus::Succeeded,
            "FAILED" => WebhookDeliveryStatus::Failed,
            _ => WebhookDeliveryStatus::Pending,
        }
    }

    /// How many times it was sent.
    async fn attempts(&self) -> i32 {
        self.0.delivery.attempts
    }

    /// The HTTP status of the last answer; null when none came (timeout, refused connection).
    async fn response_status(&self) -> Option<i32> {
        self.0.delivery.last_response_status
    }

    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.delivery.last_error.as_deref()
    }

    async fn last_attempt_at(&self) -> Option<DateTime> {
        self.0.delivery.last_attempt_at.map(Into::into)
    }

    /// When it is attempted next (PENDING only).
    async fn next_attempt_at(&self) -> Option<DateTime> {
        (self.0.delivery.status == "PENDING").then(|| self.0.delivery.next_attempt_at.into())
    }
}

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    pub organization_id: ID,
    /// An http(s) URL; loopback and private addresses are refused unless the server allows them.
    pub url: String,
    /// The kinds of event it gets (not USAGE_RECORDED, which is not stored).
    pub kinds: Vec<QuotaEventKind>,
    /// Only this tenant's events.
    pub tenant_id: Option<ID>,
    pub description: Option<String>,
}

/// The endpoint made and its signing secret, shown only here.
#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    pub endpoint: WebhookEndpoint,
    /// `whsec_` + base64 of the key that signs its deliveries; it is never shown again.
    pub secret: String,
}

#[derive(InputObject)]
pub struct DeleteWebhookEndpointInput {
    pub id: ID,
}

/// The endpoint deleted.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    pub deleted_id: ID,
}

#[derive(InputObject)]
pub struct RetryWebhookDeliveryInput {
    pub id: ID,
}

/// The delivery, PENDING again.
#[derive(SimpleObject)]
pub struct WebhookDeliveryPayload {
    pub delivery: WebhookDelivery,
}

fn uuid_of(id: &ID, what: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::not_found(what))
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Makes a webhook endpoint (OWNER, ADMIN); its secret is answered only here.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> async_graphql::Result<CreateWebhookEndpointPayload> {
        let (app, actor) = session(ctx)?;
        let new = service::webhook::NewEndpoint {
            organization_id: decode_field(&input.organization_id, "organizationId")?,
            url: input.url,
            kinds: input.kinds.into_iter().map(Into::into).collect(),
            tenant_id: decode_optional(input.tenant_id.as_ref(), "tenantId")?,
            description: input.description,
        };
        let (model, secret) = service::webhook::create(app, actor, new).await?;
        Ok(CreateWebhookEndpointPayload {
            endpoint: WebhookEndpoint(model),
            secret,
        })
    }

    /// Deletes a webhook endpoint and its deliveries, pending ones included (OWNER, ADMIN).
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: DeleteWebhookEndpointInput,
    ) -> async_graphql::Result<DeleteWebhookEndpointPayload> {
        let (app, actor) = session(ctx)?;
        let id = service::webhook::delete(app, actor, uuid_of(&input.id, "webhook endpoint")?).await?;
        Ok(DeleteWebhookEndpointPayload {
            deleted_id: ID(id.to_string()),
        })
    }

    /// Sends a FAILED (or PENDING) delivery again now (OWNER, ADMIN).
    async fn retry_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        input: RetryWebhookDeliveryInput,
    ) -> async_graphql::Result<WebhookDeliveryPayload> {
        let (app, actor) = session(ctx)?;
        let view = service::webhook::retry(app, actor, uuid_of(&input.id, "webhook delivery")?).await?;
        Ok(WebhookDeliveryPayload {
            delivery: WebhookDelivery(view),
        })
    }
}
