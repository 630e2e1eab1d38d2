//! The incentives' mutations (`IncentiveMutation`): rebate programs and payouts, MDF
//! budgets, allocations, requests, activities and claims, with their inputs and payloads.

use async_graphql::{
    Context, ErrorExtensions, InputObject, MaybeUndefined, Object, ResultExt, SimpleObject, Upload,
    ID,
};
use chrono::NaiveDate;
use entity::{mdf_allocation, mdf_claim};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;

use super::mdf;
use super::rebates::Method;
use super::service::{self, NewProgram};
use super::statements;
use super::types::{
    bands, budget_of, program, MdfActivity, MdfAllocation, MdfBudget, MdfClaim, MdfRequest,
    RebateMethod, RebateProgram, RebateStatement, RebateTierInput, ACTIVITY_KIND, ALLOCATION_KIND,
    BUDGET_KIND, CLAIM_KIND, MANAGERS, PARTNERS, PROGRAM_KIND,
};
use crate::auth::{actor, RoleGuard};
use crate::db::Db;
use crate::error::AppError;
use crate::money::MoneyInput;
use crate::relay::{local_id, UserError, UserErrorCode};

#[derive(InputObject)]
pub struct CreateRebateProgramInput {
    pub name: String,
    pub currency: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub method: RebateMethod,
    /// Contiguous `[min, max)` bands from 0; `max` null on the last.
    pub tiers: Vec<RebateTierInput>,
    pub cap: Option<Decimal>,
    #[graphql(default)]
    pub partner_ids: Vec<ID>,
    /// Every partner in these program tiers is eligible.
    #[graphql(default)]
    pub tier_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct UpdateRebateTiersInput {
    pub id: ID,
    pub version: i32,
    pub tiers: Vec<RebateTierInput>,
    /// Omitted keeps the program's cap; `null` removes it.
    pub cap: MaybeUndefined<Decimal>,
}

#[derive(SimpleObject, Default)]
pub struct RebateProgramPayload {
    pub rebate_program: Option<RebateProgram>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RecordRebatePayoutInput {
    pub program_id: ID,
    pub partner_id: ID,
    pub amount: MoneyInput,
}

#[derive(SimpleObject, Default)]
pub struct RebatePayoutPayload {
    pub statement: Option<RebateStatement>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateMdfBudgetInput {
    pub name: String,
    pub amount: MoneyInput,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

#[derive(SimpleObject, Default)]
pub struct MdfBudgetPayload {
    pub mdf_budget: Option<MdfBudget>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct AllocateMdfInput {
    pub budget_id: ID,
    pub partner_id: ID,
    pub amount: MoneyInput,
}

#[derive(SimpleObject, Default)]
pub struct MdfAllocationPayload {
    pub mdf_allocation: Option<MdfAllocation>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct MdfActivityInput {
    pub description: String,
    pub amount: MoneyInput,
}

#[derive(InputObject)]
pub struct CreateMdfRequestInput {
    pub allocation_id: ID,
    pub title: String,
    pub activities: Vec<MdfActivityInput>,
}

#[derive(SimpleObject, Default)]
pub struct MdfRequestPayload {
    pub mdf_request: Option<MdfRequest>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ApproveMdfActivityInput {
    pub activity_id: ID,
    pub approved_amount: MoneyInput,
    pub claim_deadline: Option<NaiveDate>,
    pub required_proof: Option<String>,
}

#[derive(InputObject)]
pub struct DeclineMdfActivityInput {
    pub activity_id: ID,
}

#[derive(SimpleObject, Default)]
pub struct MdfActivityPayload {
    pub mdf_activity: Option<MdfActivity>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct SubmitMdfClaimInput {
    pub activity_id: ID,
    pub amount: MoneyInput,
    pub proof_note: Option<String>,
    /// Proof of performance, as a file (GraphQL multipart request).
    pub proof: Option<Upload>,
}

#[derive(InputObject)]
pub struct MdfClaimActionInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct MdfClaimPayload {
    pub mdf_claim: Option<MdfClaim>,
    pub user_errors: Vec<UserError>,
}

async fn claim_currency(db: &Db, claim: &mdf_claim::Model) -> async_graphql::Result<String> {
    let context = mdf::activity_context(db, claim.activity_id)
        .await
        .extend()?;
    Ok(context
        .map(|(_, _, _, budget)| budget.currency)
        .unwrap_or_default())
}

async fn claim_payload(
    db: &Db,
    result: Result<mdf_claim::Model, Vec<UserError>>,
) -> async_graphql::Result<MdfClaimPayload> {
    Ok(match result {
        Ok(model) => {
            let currency = claim_currency(db, &model).await?;
            MdfClaimPayload {
                mdf_claim: Some(MdfClaim { model, currency }),
                user_errors: vec![],
            }
        }
        Err(user_errors) => MdfClaimPayload {
            mdf_claim: None,
            user_errors,
        },
    })
}

#[derive(Default)]
pub struct IncentiveMutation;

impl IncentiveMutation {
    async fn move_claim(
        &self,
        ctx: &Context<'_>,
        id: &ID,
        from: &str,
        to: &str,
    ) -> async_graphql::Result<MdfClaimPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let local = local_id(id, CLAIM_KIND).unwrap_or(-1);
        let result = mdf::decide_claim(db, &actor, local, from, to)
            .await
            .extend()?;
        claim_payload(db, result).await
    }
}

#[Object]
impl IncentiveMutation {
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_rebate_program(
        &self,
        ctx: &Context<'_>,
        input: CreateRebateProgramInput,
    ) -> async_graphql::Result<RebateProgramPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let new = NewProgram {
            name: input.name,
            currency: input.currency,
            period_start: input.period_start,
            period_end: input.period_end,
            method: if input.method == RebateMethod::Banded {
                Method::Banded
            } else {
                Method::Retroactive
            },
            bands: bands(&input.tiers),
            cap: input.cap,
            partner_ids: input
                .partner_ids
                .iter()
                .map(|id| local_id(id, crate::partners::NODE_KIND).unwrap_or(-1))
                .collect(),
            tier_ids: input
                .tier_ids
                .iter()
                .map(|id| local_id(id, crate::tiers::NODE_KIND).unwrap_or(-1))
                .collect(),
        };
        Ok(
            match service::create_program(db, &actor, new).await.extend()? {
                Ok(model) => RebateProgramPayload {
                    rebate_program: Some(RebateProgram(model)),
                    user_errors: vec![],
                },
                Err(user_errors) => RebateProgramPayload {
                    rebate_program: None,
                    user_errors,
                },
            },
        )
    }

    /// Replaces a program's tiers; earnings change through adjustment entries, never edits.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn update_rebate_program_tiers(
        &self,
        ctx: &Context<'_>,
        input: UpdateRebateTiersInput,
    ) -> async_graphql::Result<RebateProgramPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let id = local_id(&input.id, PROGRAM_KIND).unwrap_or(-1);
        Ok(
            match service::update_bands(
                db,
                &actor,
                id,
                input.version,
                bands(&input.tiers),
                crate::relay::maybe(input.cap),
            )
            .await
            .extend()?
            {
                Ok(model) => RebateProgramPayload {
                    rebate_program: Some(RebateProgram(model)),
                    user_errors: vec![],
                },
                Err(user_errors) => RebateProgramPayload {
                    rebate_program: None,
                    user_errors,
                },
            },
        )
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn record_rebate_payout(
        &self,
        ctx: &Context<'_>,
        input: RecordRebatePayoutInput,
    ) -> async_graphql::Result<RebatePayoutPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let program = program(db, &input.program_id).await?;
        let partner_id = local_id(&input.partner_id, crate::partners::NODE_KIND).unwrap_or(-1);
        if let Err(user_errors) =
            statements::record_payout(db, &actor, &program, partner_id, input.amount)
                .await
                .extend()?
        {
            return Ok(RebatePayoutPayload {
                statement: None,
                user_errors,
            });
        }
        let statement = statements::program_statement(db, program.id, partner_id)
            .await
            .extend()?
            .and_then(|(view, statement)| {
                statement.map(|statement| RebateStatement {
                    program: view.program,
                    partner_id,
                    statement,
                })
            });
        Ok(RebatePayoutPayload {
            statement,
            user_errors: vec![],
        })
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_mdf_budget(
        &self,
        ctx: &Context<'_>,
        input: CreateMdfBudgetInput,
    ) -> async_graphql::Result<MdfBudgetPayload> {
        let db = ctx.data::<Db>()?;
        Ok(
            match mdf::create_budget(
                db,
                &input.name,
                &input.amount,
                input.period_start,
                input.period_end,
            )
            .await
            .extend()?
            {
                Ok(model) => MdfBudgetPayload {
                    mdf_budget: Some(MdfBudget(model)),
                    user_errors: vec![],
                },
                Err(user_errors) => MdfBudgetPayload {
                    mdf_budget: None,
                    user_errors,
                },
            },
        )
    }

    /// Allocates part of a budget to a partner; Σ allocations never exceeds the budget.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn allocate_mdf(
        &self,
        ctx: &Context<'_>,
        input: AllocateMdfInput,
    ) -> async_graphql::Result<MdfAllocationPayload> {
        let db = ctx.data::<Db>()?;
        let budget = local_id(&input.budget_id, BUDGET_KIND).unwrap_or(-1);
        let partner = local_id(&input.partner_id, crate::partners::NODE_KIND).unwrap_or(-1);
        Ok(
            match mdf::allocate(db, budget, partner, &input.amount)
                .await
                .extend()?
            {
                Ok(model) => MdfAllocationPayload {
                    mdf_allocation: Some(MdfAllocation(model)),
                    user_errors: vec![],
                },
                Err(user_errors) => MdfAllocationPayload {
                    mdf_allocation: None,
                    user_errors,
                },
            },
        )
    }

    /// A partner asks to spend its allocation on activities.
    #[graphql(guard = "RoleGuard(PARTNERS)")]
    async fn create_mdf_request(
        &self,
        ctx: &Context<'_>,
        input: CreateMdfRequestInput,
    ) -> async_graphql::Result<MdfRequestPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let local = local_id(&input.allocation_id, ALLOCATION_KIND).unwrap_or(-1);
        let allocation = mdf_allocation::Entity::find_by_id(local)
            .one(db)
            .await
            .map_err(AppError::from)
            .extend()?;
        let Some(allocation) = allocation.filter(|a| Some(a.partner_id) == actor.partner_id) else {
            return Ok(MdfRequestPayload {
                mdf_request: None,
                user_errors: UserError::one(
                    "allocationId",
                    UserErrorCode::NotFound,
                    "no such allocation",
                ),
            });
        };
        let currency = budget_of(ctx, allocation.budget_id).await?.currency;
        let activities: Vec<(String, MoneyInput)> = input
            .activities
            .into_iter()
            .map(|a| (a.description, a.amount))
            .collect();
        Ok(
            match mdf::create_request(
                db,
                &actor,
                &allocation,
                &input.title,
                &activities,
                &currency,
            )
            .await
            .extend()?
            {
                Ok(model) => MdfRequestPayload {
                    mdf_request: Some(MdfRequest { model, currency }),
                    user_errors: vec![],
                },
                Err(user_errors) => MdfRequestPayload {
                    mdf_request: None,
                    user_errors,
                },
            },
        )
    }

    /// Approves an activity (at most what was requested); Σ approved never exceeds the allocation.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn approve_mdf_activity(
        &self,
        ctx: &Context<'_>,
        input: ApproveMdfActivityInput,
    ) -> async_graphql::Result<MdfActivityPayload> {
        let db = ctx.data::<Db>()?;
        let id = local_id(&input.activity_id, ACTIVITY_KIND).unwrap_or(-1);
        let result = mdf::approve_activity(
            db,
            id,
            &input.approved_amount,
            input.claim_deadline,
            input.required_proof,
        )
        .await
        .extend()?;
        Ok(match result {
            Ok(model) => MdfActivityPayload {
                mdf_activity: Some(MdfActivity {
                    model,
                    currency: input.approved_amount.currency,
                }),
                user_errors: vec![],
            },
            Err(user_errors) => MdfActivityPayload {
                mdf_activity: None,
                user_errors,
            },
        })
    }

    /// Declines an activity; this is final.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn decline_mdf_activity(
        &self,
        ctx: &Context<'_>,
        input: DeclineMdfActivityInput,
    ) -> async_graphql::Result<MdfActivityPayload> {
        let db = ctx.data::<Db>()?;
        let id = local_id(&input.activity_id, ACTIVITY_KIND).unwrap_or(-1);
        Ok(match mdf::decline_activity(db, id).await.extend()? {
            Ok(model) => {
                let currency = mdf::activity_context(db, model.id)
                    .await
                    .extend()?
                    .map(|(_, _, _, b)| b.currency)
                    .unwrap_or_default();
                MdfActivityPayload {
                    mdf_activity: Some(MdfActivity { model, currency }),
                    user_errors: vec![],
                }
            }
            Err(user_errors) => MdfActivityPayload {
                mdf_activity: None,
                user_errors,
            },
        })
    }

    /// Claims money for an approved activity, with proof; never more than approved.
    #[graphql(guard = "RoleGuard(PARTNERS)")]
    async fn submit_mdf_claim(
        &self,
        ctx: &Context<'_>,
        input: SubmitMdfClaimInput,
    ) -> async_graphql::Result<MdfClaimPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let id = local_id(&input.activity_id, ACTIVITY_KIND).unwrap_or(-1);
        let context = mdf::activity_context(db, id).await.extend()?;
        let Some((activity, _, allocation, budget)) =
            context.filter(|(_, _, a, _)| Some(a.partner_id) == actor.partner_id)
        else {
            return Ok(MdfClaimPayload {
                mdf_claim: None,
                user_errors: UserError::one(
                    "activityId",
                    UserErrorCode::NotFound,
                    "no such activity",
                ),
            });
        };
        let proof_file = match &input.proof {
            Some(upload) => {
                let value = upload
                    .value(ctx)
                    .map_err(|e| AppError::BadUserInput(format!("proof: {e}")).extend())?;
                let filename = value.filename.clone();
                let store = ctx.data::<crate::content::FileStore>()?;
                match store
                    .store(db, &filename, value.into_read(), actor.user_id)
                    .await
                    .extend()?
                {
                    Ok(file) => Some(file.id),
                    Err(message) => {
                        return Ok(MdfClaimPayload {
                            mdf_claim: None,
                            user_errors: UserError::one("proof", UserErrorCode::Invalid, message),
                        })
                    }
                }
            }
            None => None,
        };
        let result = mdf::submit_claim(
            db,
            &activity,
            &budget,
            allocation.partner_id,
            &input.amount,
            input.proof_note,
            proof_file,
        )
        .await
        .extend()?;
        claim_payload(db, result).await
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn approve_mdf_claim(
        &self,
        ctx: &Context<'_>,
        input: MdfClaimActionInput,
    ) -> async_graphql::Result<MdfClaimPayload> {
        self.move_claim(ctx, &input.id, mdf::SUBMITTED, mdf::APPROVED)
            .await
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn reject_mdf_claim(
        &self,
        ctx: &Context<'_>,
        input: MdfClaimActionInput,
    ) -> async_graphql::Result<MdfClaimPayload> {
        self.move_claim(ctx, &input.id, mdf::SUBMITTED, mdf::REJECTED)
            .await
    }

    /// Pays an approved claim, once and only once, and writes it to the ledger.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn mark_mdf_claim_paid(
        &self,
        ctx: &Context<'_>,
        input: MdfClaimActionInput,
    ) -> async_graphql::Result<MdfClaimPayload> {
        self.move_claim(ctx, &input.id, mdf::APPROVED, mdf::PAID)
            .await
    }
}
