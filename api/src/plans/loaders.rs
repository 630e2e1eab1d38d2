//! A plan's lists, loaded for a page of plans at once.

use entity::{
    joint_business_plan_account as account, joint_business_plan_comment as comment,
    joint_business_plan_need as need, joint_business_plan_objective as objective,
    joint_business_plan_review as review, joint_business_plan_sponsor as sponsor,
};

use crate::loaders::Grouping;

macro_rules! by_plan {
    ($($name:ident: $module:ident by $($order:ident),+;)*) => {$(
        pub struct $name;
        impl Grouping for $name {
            type Entity = $module::Entity;
            fn column() -> $module::Column {
                $module::Column::PlanId
            }
            fn key(model: &$module::Model) -> i64 {
                model.plan_id
            }
            fn sort(rows: &mut [$module::Model]) {
                rows.sort_by_key(|r| ($(r.$order),+));
            }
        }
    )*};
}

by_plan! {
    AccountsByPlan: account by position, id;
    NeedsByPlan: need by position, id;
    SponsorsByPlan: sponsor by position, id;
    ObjectivesByPlan: objective by position, id;
    CommentsByPlan: comment by id;
    ReviewsByPlan: review by id;
}
