//! Authenticator options described once per type: the schema drives validation on save,
//! what administrators see (secrets masked), what the sign-in page sees (public options only)
//! and the admin form.

use crate::error::{ApiError, ApiResult, Text};
use crate::state::AppState;
use authgate_core::model::Authenticator;
use authgate_core::secret_box::SecretBox;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OptionKind {
    Boolean,
    Text,
    /// Write-only: stored sealed, shown masked, an empty value keeps the stored one.
    Secret,
    Url,
    Select {
        choices: Vec<&'static str>,
    },
    MultiSelect {
        choices: Vec<&'static str>,
    },
    /// Free JSON that the type validates itself.
    Json,
}

/// One option of an auth type, as the admin form draws it (`authenticators:listTypes`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptionSpec {
    pub name: &'static str,
    #[serde(flatten)]
    pub kind: OptionKind,
    pub title: &'static str,
    pub title_zh: &'static str,
    pub description: &'static str,
    pub description_zh: &'static str,
    pub required: bool,
    /// Visible to the sign-in page.
    pub public: bool,
    pub default: Value,
}

const MAX_TEXT: usize = 2048;

pub fn prepare(
    state: &AppState,
    schema: &[OptionSpec],
    mut input: Map<String, Value>,
    previous: Option<&Authenticator>,
) -> ApiResult<Map<String, Value>> {
    if let Some(unknown) = input
        .keys()
        .find(|k| !schema.iter().any(|s| s.name == k.as_str()))
    {
        let known: Vec<_> = schema.iter().map(|s| s.name).collect();
        return Err(ApiError::bad_request(Text::new(
            format!(
                "Unknown option '{unknown}'; the options of this type are: {}",
                known.join(", ")
            ),
            format!("未知选项“{unknown}”；此类型的选项有：{}", known.join("、")),
        )));
    }
    let mut out = Map::new();
    for spec in schema {
        let stored = previous.and_then(|p| p.options.get(spec.name));
        let given = input.remove(spec.name).filter(|v| !v.is_null());
        let value = match (&spec.kind, given) {
            (OptionKind::Secret, Some(Value::String(s))) if s.is_empty() => stored.cloned(),
            (OptionKind::Secret, Some(Value::String(s))) => {
                if s.len() > MAX_TEXT {
                    return Err(ApiError::bad_request(Text::new(
                        format!("{} is too long", spec.title),
                        format!("{}过长", spec.title_zh),
                    )));
                }
                Some(Value::String(state.secrets.seal(s.trim().as_bytes())))
            }
            (_, Some(v)) => Some(check(spec, v)?),
            (_, None) => stored.cloned(),
        };
        match value {
            Some(v) => {
                out.insert(spec.name.to_string(), v);
            }
            None if spec.required => {
                return Err(required(spec));
            }
            None if !spec.default.is_null() => {
                out.insert(spec.name.to_string(), spec.default.clone());
            }
            None => {}
        }
    }
    Ok(out)
}

fn required(spec: &OptionSpec) -> ApiError {
    ApiError::bad_request(Text::new(
        format!("{} is required", spec.title),
        format!("请填写{}", spec.title_zh),
    ))
}

fn check(spec: &OptionSpec, v: Value) -> ApiResult<Value> {
    // What the value must be, in English and in Chinese.
    let wrong = |expected: &str, expected_zh: &str| {
        ApiError::bad_request(Text::new(
            format!("{} ({}) must be {expected}", spec.title, spec.name),
            format!("{}（{}）必须是{expected_zh}", spec.title_zh, spec.name),
        ))
    };
    match &spec.kind {
        OptionKind::Boolean => v
            .is_boolean()
            .then_some(v)
            .ok_or_else(|| wrong("true or false", " true 或 false")),
        OptionKind::Text | OptionKind::Secret => match v {
            Value::String(s) if s.len() <= MAX_TEXT => {
                let t = s.trim().to_string();
                if t.is_empty() && spec.required {
                    return Err(required(spec));
                }
                Ok(Value::String(t))
            }
            _ => Err(wrong(
                "a text of at most 2048 characters",
                "不超过 2048 个字符的文本",
            )),
        },
        OptionKind::Url => match v {
            Value::String(s) if s.trim().is_empty() => Ok(Value::String(String::new())),
            Value::String(s) => {
                let url = url::Url::parse(s.trim())
                    .map_err(|_| wrong("an http(s) URL", " http(s) 网址"))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(wrong("an http(s) URL", " http(s) 网址"));
                }
                Ok(Value::String(
                    url.as_str().trim_end_matches('/').to_string(),
                ))
            }
            _ => Err(wrong("an http(s) URL", " http(s) 网址")),
        },
        OptionKind::Select { choices } => match &v {
            Value::String(s) if choices.contains(&s.as_str()) => Ok(v),
            _ => Err(wrong(
                &format!("one of: {}", choices.join(", ")),
                &format!("以下之一：{}", choices.join("、")),
            )),
        },
        OptionKind::MultiSelect { choices } => {
            let items = v.as_array().ok_or_else(|| wrong("a list", "列表"))?;
            let mut seen = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if choices.contains(&s) && !seen.contains(&s) => seen.push(s),
                    _ => {
                        return Err(wrong(
                            &format!("a list of distinct values among: {}", choices.join(", ")),
                            &format!("由以下值组成且互不重复的列表：{}", choices.join("、")),
                        ))
                    }
                }
            }
            Ok(v)
        }
        OptionKind::Json => Ok(v),
    }
}

/// Masks a sealed secret as `••••` plus its last four characters.
pub fn mask_secret(secrets: &SecretBox, sealed: &str) -> String {
    match secrets.open(sealed) {
        Ok(plain) => {
            let text = String::from_utf8_lossy(&plain);
            let tail: String = text
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("••••{tail}")
        }
        Err(_) => "•••• (unreadable: set it again)".into(),
    }
}

pub fn for_admin(
    state: &AppState,
    schema: &[OptionSpec],
    stored: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for spec in schema {
        let Some(v) = stored.get(spec.name) else {
            continue;
        };
        let shown = match (&spec.kind, v) {
            (OptionKind::Secret, Value::String(sealed)) => {
                Value::String(mask_secret(&state.secrets, sealed))
            }
            (OptionKind::Secret, _) => continue,
            _ => v.clone(),
        };
        out.insert(spec.name.to_string(), shown);
    }
    out
}

pub fn public(schema: &[OptionSpec], stored: &Map<String, Value>) -> Map<String, Value> {
    schema
        .iter()
        .filter(|s| s.public && s.kind != OptionKind::Secret)
        .filter_map(|s| stored.get(s.name).map(|v| (s.name.to_string(), v.clone())))
        .collect()
}
