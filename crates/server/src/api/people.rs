//! People as administrators name them: a filter takes a name, username, e-mail, phone or id,
//! and lists show names instead of ids.

use crate::error::{ApiError, ApiResult, Text};
use crate::state::AppState;
use authgate_store::{Page, UserQuery};
use std::collections::HashMap;

/// The id of the one person `who` names (`12`, `#12`, a username, e-mail, phone or nickname;
/// an exact match wins over a partial one); `None` for an empty filter. Nobody, or several
/// people, is a 400 that says so.
pub async fn resolve(state: &AppState, who: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(who) = who.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(None);
    };
    if let Ok(id) = who.trim_start_matches('#').parse::<i64>() {
        return Ok(Some(id));
    }
    let (found, _) = state
        .store
        .list_users(&UserQuery {
            search: Some(who.to_string()),
            page: Page::new(1, 6),
            ..Default::default()
        })
        .await?;
    let exact: Vec<i64> = found
        .iter()
        .filter(|u| {
            [&u.username, &u.email, &u.phone, &u.nickname]
                .into_iter()
                .flatten()
                .any(|v| v.eq_ignore_ascii_case(who))
        })
        .map(|u| u.id)
        .collect();
    let partial: Vec<i64> = found.iter().map(|u| u.id).collect();
    match (exact.as_slice(), partial.as_slice()) {
        ([one], _) | ([], [one]) => Ok(Some(*one)),
        (_, []) => Err(ApiError::bad_request(Text::new(
            format!("Nobody is called '{who}'"),
            format!("没有叫“{who}”的用户"),
        ))),
        _ => {
            let names = found
                .iter()
                .take(5)
                .map(|u| u.name_and_username())
                .collect::<Vec<_>>()
                .join(", ");
            Err(ApiError::bad_request(Text::new(
                format!("Several people match '{who}': {names}; type more of the name"),
                format!("有多位用户与“{who}”相符：{names}；请输入更完整的名字"),
            )))
        }
    }
}

/// The display names of `ids` (people who no longer exist are left out).
pub async fn names(
    state: &AppState,
    ids: impl IntoIterator<Item = i64>,
) -> ApiResult<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        if let Some(u) = state.store.get_user(id).await? {
            out.insert(id, u.display_name());
        }
    }
    Ok(out)
}
